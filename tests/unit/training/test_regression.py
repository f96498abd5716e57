"""Judging regressions: errors in the target's units, the fit verdict, and gates that
know lower is better for errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from sklearn.linear_model import LinearRegression
from sklearn.neighbors import KNeighborsRegressor

from tabship.registry.gates import check
from tabship.training.regression import by_band, diagnose, metrics
from tabship.usecase.training import GateSpec, SplitSpec, TrainingSpec


def _data(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    return x, 3 * x["a"].to_numpy() - x["b"].to_numpy() + rng.normal(0, 0.5, n) + 10


def _folds(n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    parts = np.array_split(np.arange(n), 3)
    return [
        (np.concatenate([p for j, p in enumerate(parts) if j != i]), parts[i]) for i in range(3)
    ]


def test_metrics_are_in_the_targets_units() -> None:
    y, pred = np.array([100.0, 200.0]), np.array([110.0, 180.0])
    got = metrics(y, pred)
    assert got["mae"] == pytest.approx(15.0)
    assert got["rmse"] == pytest.approx(np.sqrt((100 + 400) / 2))
    assert got["mape"] == pytest.approx((0.1 + 0.1) / 2)


def test_a_one_neighbour_model_is_called_an_overfit_and_a_line_a_good_fit() -> None:
    x, y = _data(600, 1)
    xt, yt = _data(200, 2)
    folds = _folds(len(y))
    memorise = diagnose(
        "1-nn",
        lambda: KNeighborsRegressor(1),
        KNeighborsRegressor(1).fit(x, y),
        x,
        y,
        xt,
        yt,
        folds,
    )
    assert memorise.train["rmse"] == pytest.approx(0.0)
    assert memorise.verdict().startswith("overfits")
    line = diagnose("line", LinearRegression, LinearRegression().fit(x, y), x, y, xt, yt, folds)
    assert "fits well" in line.verdict()
    assert [c[0] for c in line.curve] == sorted(c[0] for c in line.curve)
    assert line.test["rmse"] < memorise.test["rmse"]
    bands = by_band(yt, [line, memorise])
    assert bands["rows"].sum() == len(yt)
    assert {"line MAE", "1-nn MAPE"} <= set(bands.columns)


def test_gates_know_that_lower_errors_are_better() -> None:
    spec = GateSpec(beat_baseline=["rmse", "r2"], max_drop_vs_champion={"rmse": 10.0})
    better = check(
        spec, {"rmse": 90.0, "r2": 0.9}, {"rmse": 100.0, "r2": 0.8}, {"rmse": 85.0}, 1, 1
    )
    assert all(g.passed for g in better)
    worse = check(
        spec, {"rmse": 110.0, "r2": 0.7}, {"rmse": 100.0, "r2": 0.8}, {"rmse": 95.0}, 1, 1
    )
    assert [g.passed for g in worse] == [False, False, False]
    assert worse[2].limit == 105.0


def test_a_metric_must_fit_the_task() -> None:
    split = SplitSpec(by="group", column="id")
    assert TrainingSpec(task="regression", split=split).objective == "rmse"
    assert TrainingSpec(split=split).objective == "average_precision"
    with pytest.raises(ValidationError, match="does not fit a regression task"):
        TrainingSpec(task="regression", split=split, metric="roc_auc")
    with pytest.raises(ValidationError, match="classifier"):
        TrainingSpec(task="regression", split=split, families=["logistic_regression"])
