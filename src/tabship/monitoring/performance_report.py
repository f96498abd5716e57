"""A performance result as people and programs read it: Markdown and HTML with plots, JSON."""

from __future__ import annotations

import json
from pathlib import Path

from tabship.monitoring.pages import page
from tabship.monitoring.performance import PerformanceResult, Scores

ORDER = ("roc_auc", "pr_auc", "brier", "cost_per_row", "recall", "positive_rate", "mae", "rmse")


def write(result: PerformanceResult, folder: Path) -> dict[str, Path]:
    """``performance.json``, ``.md``, ``.html`` and the calibration plot in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    if any(s.calibration for s in result.scores):
        _calibration_plot(result, folder / "calibration.png")
    paths = {
        "json": folder / "performance.json",
        "markdown": folder / "performance.md",
        "html": folder / "performance.html",
    }
    paths["json"].write_text(json.dumps(result.as_dict(), indent=1))
    text = markdown(result)
    paths["markdown"].write_text(text)
    paths["html"].write_text(page(text, f"Performance of {result.model}"))
    return paths


def summary(result: PerformanceResult) -> list[str]:
    """One line per version and period: rows and the headline metric beside training's."""
    out = [f"{result.labelled:,} labels joined to predictions, {result.unmatched:,} unmatched"]
    for s in result.scores:
        shown = [m for m in ORDER if m in s.metrics][:3]
        trained = result.trained.get(s.version, {})
        parts = [f"{m} {s.metrics[m]:.4f}" + _beside(trained, m) for m in shown]
        out.append(f"version {s.version}, {s.period}: {s.rows:,} rows; " + ", ".join(parts))
    return out


def markdown(result: PerformanceResult) -> str:
    """The report in Markdown: every version and period, training's figures beside."""
    names = [m for m in ORDER if any(m in s.metrics for s in result.scores)]
    lines = [
        f"# Performance of {result.model}",
        "",
        f"Outcomes joined to logged predictions: {result.labelled:,} matched, "
        f"{result.unmatched:,} with no logged prediction. In brackets: the same metric on the "
        "version's test split at training.",
        "",
        "| version | period | rows | " + " | ".join(names) + " |",
        "| --- | --- | ---: | " + " | ".join("---:" for _ in names) + " |",
        *(_row(s, names, result.trained.get(s.version, {})) for s in result.scores),
        "",
    ]
    if any(s.calibration for s in result.scores):
        lines += [
            "Calibration: observed outcome rate against the mean score, per score decile "
            "(on the diagonal, a score of 0.2 means 20 in 100 such clients default).",
            "",
            "![calibration](calibration.png)",
            "",
        ]
    return "\n".join(lines)


def _row(s: Scores, names: list[str], trained: dict[str, float]) -> str:
    cells = [f"{s.metrics[m]:.4f}{_beside(trained, m)}" if m in s.metrics else "" for m in names]
    return f"| {s.version} | {s.period} | {s.rows:,} | " + " | ".join(cells) + " |"


def _beside(trained: dict[str, float], metric: str) -> str:
    return f" ({trained[metric]:.4f})" if metric in trained else ""


def _calibration_plot(result: PerformanceResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], color="#999", linestyle="--", linewidth=1, label="perfect")
    for s in result.scores:
        if s.calibration:
            xs = [b["score"] for b in s.calibration]
            ys = [b["observed"] for b in s.calibration]
            ax.plot(xs, ys, marker="o", label=f"version {s.version}, {s.period}")
    ax.set(xlabel="mean score", ylabel="observed rate", title=f"{result.model}: calibration")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
