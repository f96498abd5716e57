"""The report's view of a version's explainer: which inputs move its scores most on
held-out rows, as a table and a bar chart, and how the contributions were checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

SHOWN = 15


def markdown(spec: dict[str, Any], folder: Path) -> str:
    """The report's section on explanations (and ``importance.png`` in ``folder``)."""
    ranked = spec["importance"][:SHOWN]
    check = spec["additivity"]
    _plot(ranked, spec["scale"], folder)
    lines = [
        "## What moves the scores (global importance)",
        "",
        f"Mean absolute contribution on held-out rows, in {spec['scale']}; computed by "
        f"{spec['method']}. Base value plus contributions gave the served score within "
        f"{check['max_diff']:.2g} on {check['rows']} test rows.",
        "",
        "| input | mean absolute contribution |",
        "| --- | ---: |",
        *(f"| {r['input']} | {r['importance']:.4f} |" for r in ranked),
        "",
        "![importance](importance.png)",
        "",
        *_groups(spec.get("group_importance") or [], spec.get("groups") or {}),
    ]
    return "\n".join(lines)


def _groups(ranked: list[dict[str, Any]], groups: dict[str, Any]) -> list[str]:
    """The declared groups' importance (their members' contributions summed per row)."""
    if not ranked:
        return []
    return [
        "Declared groups, told as one reason (members' contributions summed per row):",
        "",
        "| group | inputs | mean absolute contribution |",
        "| --- | --- | ---: |",
        *(
            f"| {r['group']} | {', '.join(groups[r['group']]['inputs'])} | {r['importance']:.4f} |"
            for r in ranked
        ),
        "",
    ]


def _plot(ranked: list[dict[str, Any]], scale: str, folder: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(ranked) + 1.2))
    names = [r["input"] for r in ranked][::-1]
    ax.barh(names, [r["importance"] for r in ranked][::-1])
    ax.set(title="Global importance (held-out rows)", xlabel=f"mean |contribution| ({scale})")
    fig.tight_layout()
    fig.savefig(folder / "importance.png", dpi=90)
    plt.close(fig)
