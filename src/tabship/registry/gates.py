"""Quality and serving-cost gates a version must pass before approval (without override)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from tabship.training.spec import GateSpec


@dataclass(frozen=True)
class GateResult:
    name: str
    passed: bool
    value: float
    limit: float

    def describe(self) -> str:
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
    out += [
        GateResult(
            f"{m} beats the notebook baseline", metrics[m] > baseline[m], metrics[m], baseline[m]
        )
        for m in spec.beat_baseline
    ]
    if champion:
        out += [
            GateResult(
                f"{m} vs champion", metrics[m] >= champion[m] - drop, metrics[m], champion[m] - drop
            )
            for m, drop in spec.max_drop_vs_champion.items()
            if m in champion
        ]
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
    return [asdict(r) for r in results]
