"""A drift result as people and programs read it: Markdown and HTML with plots, and JSON."""

from __future__ import annotations

import json
from pathlib import Path

from tabship.monitoring.drift import DriftResult, InputDrift, VersionDrift
from tabship.monitoring.pages import page

BAND_COLOURS = {"stable": "#1b7837", "watch": "#e08214", "act": "#b2182b"}  # colour-blind safe
SHOWN_BINS = 3  # inputs whose bins are drawn then-vs-now, per version (the worst first)


def write(result: DriftResult, folder: Path) -> dict[str, Path]:
    """``drift.json``, ``drift.md``, ``drift.html`` and their plots in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for version in result.versions:
        _psi_plot(version, result, folder / f"psi-v{version.version}.png")
        for d in _worst(version):
            _bins_plot(d, version.version, folder / f"bins-v{version.version}-{_safe(d.name)}.png")
    paths = {
        "json": folder / "drift.json",
        "markdown": folder / "drift.md",
        "html": folder / "drift.html",
    }
    paths["json"].write_text(json.dumps(result.as_dict(), indent=1))
    paths["markdown"].write_text(markdown(result))
    paths["html"].write_text(page(markdown(result), f"Drift of {result.model}"))
    return paths


def summary(result: DriftResult) -> list[str]:
    """One sentence per version: the verdict and what crossed."""
    out = []
    for v in result.versions:
        head = f"version {v.version}: {v.rows:,} predictions"
        if not v.enough:
            out.append(f"{head}, too few for a verdict (at least {result.thresholds['min_rows']})")
        elif v.failed:
            crossed = "; ".join(f"{d.name} ({', '.join(d.failed)})" for d in v.failed)
            out.append(f"{head}, drift: {crossed}")
        else:
            out.append(f"{head}, stable (score PSI {v.score.psi:.3f})")
    return out


def markdown(result: DriftResult) -> str:
    """The report in Markdown."""
    psi = result.thresholds["psi"]
    lines = [
        f"# Drift of {result.model}",
        "",
        f"PSI against each version's training profile, over fixed bins (its training "
        f"deciles; text: its training levels). Below {psi['watch']} stable, "
        f"{psi['watch']} to {psi['act']} watch, from {psi['act']} act. "
        f"Window: {result.since or 'the first logged prediction'} to "
        f"{result.until or 'the last'}.",
        "",
        *(f"- {s}" for s in summary(result)),
        "",
    ]
    if result.skipped_lines:
        lines += [f"{result.skipped_lines} unreadable log line(s) skipped.", ""]
    if result.without_profile:
        lines += [f"Not monitored (no profile): {', '.join(result.without_profile)}.", ""]
    for v in result.versions:
        lines += _version_md(v)
    return "\n".join(lines)


def _version_md(v: VersionDrift) -> list[str]:
    rows = [v.score, *sorted(v.inputs, key=lambda d: -d.psi)]
    return [
        f"## Version {v.version}",
        "",
        f"{v.rows:,} predictions from {v.first} to {v.last}.",
        "",
        f"![PSI per input](psi-v{v.version}.png)",
        "",
        "| input | PSI | band | missing (training → now) | never-seen levels | fails |",
        "| --- | ---: | --- | --- | --- | --- |",
        *(
            f"| {d.name} | {d.psi:.3f} | {d.band} | {d.missing_expected:.1%} → "
            f"{d.missing_actual:.1%} | {_unseen(d)} | {'; '.join(d.failed)} |"
            for d in rows
        ),
        "",
        *(f"![{d.name}: bins](bins-v{v.version}-{_safe(d.name)}.png)\n" for d in _worst(v)),
    ]


def _worst(v: VersionDrift) -> list[InputDrift]:
    return sorted([v.score, *v.inputs], key=lambda d: -d.psi)[:SHOWN_BINS]


def _unseen(d: InputDrift) -> str:
    if not d.unseen:
        return ""
    return f"{d.unseen_share:.1%}: " + ", ".join(f"{k} ({n})" for k, n in d.unseen.items())


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


def _psi_plot(v: VersionDrift, result: DriftResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ranked = sorted([v.score, *v.inputs], key=lambda d: d.psi)[-25:]
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(ranked) + 1.4))
    ax.barh(
        [d.name for d in ranked],
        [d.psi for d in ranked],
        color=[BAND_COLOURS[d.band] for d in ranked],
    )
    for name in ("watch", "act"):
        ax.axvline(result.thresholds["psi"][name], color="#555", linestyle="--", linewidth=1)
    ax.set(
        title=f"{result.model} version {v.version}: PSI per input ({v.rows:,} predictions)",
        xlabel="PSI (dashed: watch, act)",
    )
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _bins_plot(d: InputDrift, version: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    at = np.arange(len(d.labels))
    fig, ax = plt.subplots(figsize=(8, 3.2))
    ax.bar(at - 0.2, d.expected, 0.4, label="training", color="#4393c3")
    ax.bar(at + 0.2, d.actual, 0.4, label="logged", color="#d6604d", hatch="//")
    ax.set_xticks(at, d.labels, rotation=35, ha="right", fontsize=7)
    ax.set(title=f"version {version}, {d.name}: PSI {d.psi:.3f} ({d.band})", ylabel="share")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
