"""Quality and serving-cost gates a version must pass before approval (without override)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from tabship.usecase.training import LOWER_IS_BETTER, GateSpec


def _better(metric: str, value: float, than: float) -> bool:
    return value < than if metric in LOWER_IS_BETTER else value > than


def _within(metric: str, value: float, reference: float, drop: float) -> tuple[bool, float]:
    """Not worse than ``reference`` by more than ``drop``; returns the verdict and the limit."""
    if metric in LOWER_IS_BETTER:
        return value <= reference + drop, reference + drop
    return value >= reference - drop, reference - drop


@dataclass(frozen=True)
class GateResult:
    """One declared gate checked on a version: its name, the value, the limit, and the verdict."""

    name: str
    passed: bool
    value: float
    limit: float

    def describe(self) -> str:
        """The gate in one line: name, value against its limit, verdict."""
        mark = "pass" if self.passed else "FAIL"
        return f"{mark} {self.name}: {self.value:.4g} (limit {self.limit:.4g})"


def check(
    spec: GateSpec,
    metrics: dict[str, float],
    baseline: dict[str, float],
    champion: dict[str, float] | None,
    model_mb: float,
    latency_ms: float,
) -> list[GateResult]:
    """Every declared gate, evaluated; a missing champion passes the champion gates."""
    out = [
        GateResult(f"min {m}", metrics[m] >= v, metrics[m], v) for m, v in spec.min_metrics.items()
    ]
    if spec.calibrated and "brier" in metrics and "brier_base_rate" in metrics:
        base = metrics["brier_base_rate"]
        out.append(
            GateResult(
                "Brier score not worse than the prior's",
                metrics["brier"] <= base,
                metrics["brier"],
                base,
            )
        )
    out += [
        GateResult(
            f"{m} beats the baseline",
            _better(m, metrics[m], baseline[m]),
            metrics[m],
            baseline[m],
        )
        for m in spec.beat_baseline
    ]
    if champion:
        for m, drop in spec.max_drop_vs_champion.items():
            if m in champion:
                passed, limit = _within(m, metrics[m], champion[m], drop)
                out.append(GateResult(f"{m} vs champion", passed, metrics[m], limit))
    if spec.max_model_mb is not None:
        out.append(
            GateResult("model size MB", model_mb <= spec.max_model_mb, model_mb, spec.max_model_mb)
        )
    if spec.max_latency_ms is not None:
        out.append(
            GateResult(
                "single-row latency ms",
                latency_ms <= spec.max_latency_ms,
                latency_ms,
                spec.max_latency_ms,
            )
        )
    return out


def as_dicts(results: list[GateResult]) -> list[dict[str, object]]:
    """Gate results as plain data (a version's tag, the report)."""
    return [asdict(r) for r in results]
