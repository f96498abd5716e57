"""Splits that cannot leak, and the cost-minimising threshold."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tabship.training.split import holdout
from tabship.training.threshold import choose, expected_cost
from tabship.usecase.training import CostSpec, SplitSpec


def _frame(n: int = 2_000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "id": rng.integers(0, 150, n),
            "day": pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 700, n), "D"),
            "x": rng.normal(size=n),
        }
    )


def test_no_user_on_both_sides_of_a_group_split() -> None:
    split = holdout(_frame(), SplitSpec(by="group", column="id", test_size=0.3), seed=1)
    assert set(split.train["id"]).isdisjoint(split.test["id"])
    assert len(split.train) + len(split.test) == 2_000
    assert 0.15 < len(split.test) / 2_000 < 0.45


def test_time_split_tests_on_the_latest_rows() -> None:
    split = holdout(_frame(), SplitSpec(by="time", column="day", test_size=0.25), seed=1)
    assert split.train["day"].max() <= split.test["day"].min()


def test_threshold_minimises_the_declared_cost_on_a_known_case() -> None:
    y = np.array([0, 0, 1, 1])
    proba = np.array([0.1, 0.4, 0.35, 0.8])
    cost = CostSpec(false_negative=5, false_positive=1)
    # Refuse nobody: 10; {0.8}: 5; {0.8, 0.4}: 6; {0.8, 0.4, 0.35}: 1; everyone: 2.
    best = choose(y, proba, cost)
    assert best.value == 0.35
    assert best.cost_per_row == 0.25
    assert expected_cost(y, proba, best.value, cost) == 0.25


def test_threshold_refuses_nobody_when_refusing_never_pays() -> None:
    y = np.array([0, 0, 0, 1])
    proba = np.array([0.9, 0.8, 0.7, 0.1])
    best = choose(y, proba, CostSpec(false_negative=2, false_positive=1))
    assert best.value > 1.0
    assert best.cost_per_row == 0.5
