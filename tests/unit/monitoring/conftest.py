"""Reference rows, a profile made from them, and prediction logs written as the service
writes them (its own entry format)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tabship.monitoring.profile import Profile, make_profile
from tabship.serving.predlog import Entry

FEATURES = ["amount", "age", "rate", "kind"]


def rows(n: int, seed: int, shift: float = 0.0, new_level: float = 0.0) -> dict[str, Any]:
    """``n`` rows like training's; ``shift`` moves amount; ``new_level`` is the share of
    'kind' values training never saw."""
    rng = np.random.default_rng(seed)
    amount = rng.lognormal(8, 0.5, n) * (1 + shift)
    age = rng.normal(40, 10, n)
    rate = rng.uniform(1, 10, n)
    rate[rng.random(n) < 0.05] = np.nan
    kind: list[Any] = list(rng.choice(["cash", "card", "loan"], n, p=[0.5, 0.3, 0.2]))
    for i in np.flatnonzero(rng.random(n) < new_level):
        kind[i] = "crypto"
    scores = 1 / (1 + np.exp(-(age - 40) / 10))
    return {"amount": amount, "age": age, "rate": rate, "kind": kind, "score": scores}


@pytest.fixture
def profile() -> Profile:
    """The profile of 5,000 training rows."""
    data = rows(5000, 1)
    columns = {name: data[name] for name in FEATURES}
    return make_profile(columns, {"kind"}, data["score"], 10, 5000)


LogWriter = Callable[..., Path]


@pytest.fixture
def write_log(tmp_path: Path) -> LogWriter:
    """Write ``data`` as one day of the model's log (one writer's file of it, if named);
    returns the model's log folder."""

    def write(
        data: dict[str, Any], version: str = "1", day: str = "2026-11-30", writer: str = ""
    ) -> Path:
        folder = tmp_path / "predictions" / "m"
        folder.mkdir(parents=True, exist_ok=True)
        start = time.mktime(time.strptime(day, "%Y-%m-%d")) - time.timezone + 3600
        name = f"{day}.{writer}.jsonl" if writer else f"{day}.jsonl"
        with (folder / name).open("ab") as handle:
            for i in range(len(data["age"])):
                values = [_plain(data[f][i]) for f in FEATURES]
                entry = Entry(
                    f"r{version}-{i}",
                    start + i,
                    "m",
                    version,
                    "champion",
                    False,
                    i,
                    FEATURES,
                    values,
                    float(data["score"][i]),
                    0.001,
                )
                handle.write(entry.as_json() + b"\n")
        return folder

    return write


def _plain(value: Any) -> Any:
    return value if isinstance(value, str) else float(value)
