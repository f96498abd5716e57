"""A version's reference profile: fixed bins of every input and of the score, from training.

Credit teams compare today's traffic with the development sample's own deciles, fixed once:
re-binning every run (as general drift tools do) moves the yardstick with the data. The
profile is made at training, stored with the version and shipped in its serving bundle;
drift reports and live gauges count traffic into exactly these bins.

Bins of a number: ``edges`` cut points (its training deciles, fewer where values repeat),
bin ``i`` holding ``edges[i-1] <= x < edges[i]``, then one bin for missing values. Bins of
a text input: each training level, one for levels training never saw, one for missing.
Only numpy here: the serving install loads profiles too.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

PROFILE_FILE = "profile.json"
UNSEEN = "(never seen)"
MISSING = "(missing)"
SCORE = "score"  # the profile's name for the model's output


@dataclass(frozen=True)
class Binned:
    """One input's fixed bins and the share of training rows in each."""

    name: str
    kind: str  # "number" | "text"
    labels: list[str]  # one per bin, the last two of a text input: unseen, missing
    shares: list[float]
    edges: list[float] | None = None  # numbers: cut points
    levels: list[str] | None = None  # text: the training levels, in bin order

    def bin(self, values: Any) -> np.ndarray:
        """The bin of each value (numbers: NaN or None is missing; text: None is)."""
        if self.kind == "number":
            if isinstance(values, list):
                values = [np.nan if v is None else v for v in values]
            x = np.asarray(values, dtype=float)
            out = np.searchsorted(np.asarray(self.edges), x, side="right")
            out[np.isnan(x)] = len(self.labels) - 1
            return out
        at = {level: i for i, level in enumerate(self.levels or [])}
        unseen, missing = len(self.labels) - 2, len(self.labels) - 1
        return np.asarray(
            [missing if v is None else at.get(str(v), unseen) for v in values], dtype=np.int64
        )

    @property
    def missing_share(self) -> float:
        """Share of training rows with no value."""
        return self.shares[-1]


@dataclass(frozen=True)
class Profile:
    """The reference profile of one version: every input's bins and the score's."""

    inputs: dict[str, Binned]
    score: Binned
    rows: int
    ranked: list[str] = field(default_factory=list)  # inputs, most important first

    def write(self, folder: Path) -> Path:
        """Save as ``profile.json`` in ``folder`` (the serving bundle)."""
        path = folder / PROFILE_FILE
        payload = {
            "rows": self.rows,
            "ranked": self.ranked,
            "inputs": [asdict(b) for b in self.inputs.values()],
            "score": asdict(self.score),
        }
        path.write_text(json.dumps(payload))
        return path

    @classmethod
    def load(cls, folder: Path) -> Profile:
        """Read a bundle's profile; FileNotFoundError where the version has none."""
        payload = json.loads((folder / PROFILE_FILE).read_text())
        inputs = [Binned(**b) for b in payload["inputs"]]
        score = Binned(**payload["score"])
        ranked = list(payload.get("ranked") or [])
        return cls({b.name: b for b in inputs}, score, int(payload["rows"]), ranked)


def number_bins(name: str, values: np.ndarray, bins: int) -> Binned:
    """Quantile cut points of ``values`` (ties merged), and the training shares."""
    x = np.asarray(values, dtype=float)
    present = x[~np.isnan(x)]
    inner = np.linspace(0, 1, bins + 1)[1:-1]
    edges = np.unique(np.quantile(present, inner)) if len(present) else np.array([])
    labels = [*_ranges(edges), MISSING]
    binned = Binned(name, "number", labels, [], [float(e) for e in edges])
    return _with_shares(binned, x)


def text_bins(name: str, values: Any, max_levels: int = 200) -> Binned:
    """Training levels (the ``max_levels`` most frequent), then unseen, then missing."""
    values = [None if _missing(v) else v for v in values]
    present = [str(v) for v in values if v is not None]
    found, counts = np.unique(np.asarray(present, dtype=object), return_counts=True)
    order = np.argsort(-counts, kind="stable")[:max_levels]
    levels = [str(found[i]) for i in order]
    binned = Binned(name, "text", [*levels, UNSEEN, MISSING], [], levels=levels)
    return _with_shares(binned, values)


def _missing(value: Any) -> bool:
    """None, or a float NaN (pandas' missing text)."""
    return value is None or (isinstance(value, float) and np.isnan(value))


def _with_shares(binned: Binned, values: Any) -> Binned:
    counts = np.bincount(binned.bin(values), minlength=len(binned.labels))
    shares = (counts / max(int(counts.sum()), 1)).tolist()
    return Binned(binned.name, binned.kind, binned.labels, shares, binned.edges, binned.levels)


def _ranges(edges: np.ndarray) -> list[str]:
    """Readable bin labels: '< 3.2', '3.2 to 5', ..., '≥ 9.1'."""
    if not len(edges):
        return ["any value"]
    cuts = [f"{e:.4g}" for e in edges]
    middle = [f"{a} to {b}" for a, b in itertools.pairwise(cuts)]
    return [f"< {cuts[0]}", *middle, f"≥ {cuts[-1]}"]


def make_profile(
    columns: dict[str, Any],
    text: set[str],
    scores: np.ndarray,
    bins: int,
    rows: int,
    ranked: list[str] | None = None,
) -> Profile:
    """The profile of training ``columns`` (name → values; text as text, None missing)
    and of the version's ``scores`` on held-out rows; ``ranked``: most important first."""
    inputs = {
        name: text_bins(name, values) if name in text else number_bins(name, values, bins)
        for name, values in columns.items()
    }
    return Profile(inputs, number_bins(SCORE, scores, bins), rows, list(ranked or columns))
