"""Live drift windows: running counts always equal a recount of the last N predictions,
and PSI moves when traffic moves."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from tabship.monitoring.live import LiveDrift, Window
from tabship.monitoring.profile import Profile
from tests.unit.monitoring.conftest import FEATURES, rows


class Logged(NamedTuple):
    model: str
    version: str
    features: list[str]
    values: list[Any]
    prediction: float


def _entries(data: dict[str, Any], version: str = "1") -> list[Logged]:
    return [
        Logged("m", version, FEATURES, [data[f][i] for f in FEATURES], float(data["score"][i]))
        for i in range(len(data["age"]))
    ]


def test_running_counts_equal_a_recount_of_the_last_rows(profile: Profile) -> None:
    window = Window(profile, ["amount", "kind", "rate"], size=300)
    entries = _entries(rows(1000, 7, shift=0.3, new_level=0.1))
    for start, size in [(0, 120), (120, 250), (370, 1), (371, 400), (771, 229)]:
        window.add(entries[start : start + size])
        last = entries[max(0, start + size - 300) : start + size]
        for j, binned in enumerate(window.binned):
            column = [e.prediction for e in last] if j == 0 else None
            if column is None:
                at = FEATURES.index(window.inputs[j - 1])
                column = [e.values[at] for e in last]
            expected = np.bincount(binned.bin(column), minlength=len(binned.labels))
            np.testing.assert_array_equal(window.counts[j], expected)


def test_psi_moves_with_traffic_and_unloaded_versions_disappear(profile: Profile) -> None:
    loaded = {("m", "1"): profile}
    live = LiveDrift(lambda m, v: loaded.get((m, v)), lambda m: (1000, 2))
    live.observe(_entries(rows(1000, 8)))
    calm = {r.input: r.psi for r in live.readings()}
    assert set(calm) == {"score", "amount", "age"}  # the two first-ranked inputs, bounded
    assert max(calm.values()) < 0.1
    live.observe(_entries(rows(1000, 9, shift=0.8)))
    moved = {r.input: r.psi for r in live.readings()}
    assert moved["amount"] > 0.25
    assert moved["age"] < 0.1
    live.observe(_entries(rows(10, 9), version="2"))  # no profile: not watched
    assert {r.version for r in live.readings()} == {"1"}
    loaded.clear()
    assert live.readings() == []
