"""The search: folds prepared once give the same scores as fresh pipelines, weak trials
stop early while the best one runs every fold, and a wide table's forests sample columns."""

from __future__ import annotations

from typing import Any

import numpy as np
import optuna
import pandas as pd
import pytest

from tabship.training import pipeline
from tabship.training.prepared import PreparedFolds
from tabship.training.search import folds, out_of_fold, search
from tabship.usecase.training import SplitSpec, TrainingSpec


def _frame(n: int = 600, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(size=n)
    a[rng.random(n) < 0.1] = np.nan  # imputation is one of the prepared steps
    logit = 1.5 * np.nan_to_num(a) - b
    return pd.DataFrame(
        {
            "id": np.arange(n) // 2,
            "a": a,
            "b": b,
            "kind": rng.choice(["x", "y", "z"], size=n),
            "y": (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int),
        }
    )


def _spec(**extra: Any) -> TrainingSpec:
    return TrainingSpec(
        split=SplitSpec(by="group", column="id"),
        families=["logistic_regression", "random_forest"],
        metric="roc_auc",
        **extra,
    )


@pytest.mark.parametrize("imbalance", ["class_weight", "smote"])
@pytest.mark.parametrize(
    ("family", "params"),
    [
        ("logistic_regression", {"C": 0.5}),
        ("random_forest", {"n_estimators": 20, "max_depth": 4, "min_samples_leaf": 5}),
    ],
)
def test_prepared_folds_score_exactly_as_fresh_pipelines(
    family: Any, params: dict[str, Any], imbalance: str
) -> None:
    frame, spec = _frame(), _spec(imbalance=imbalance)
    x, y = frame[["a", "b", "kind"]], frame["y"].to_numpy()
    cv = folds(frame, y, spec)
    fresh = out_of_fold(family, params, x, y, cv, spec, text=["kind"])
    prepared = PreparedFolds(x, y, cv)
    first = out_of_fold(family, params, x, y, prepared, spec, text=["kind"])
    again = out_of_fold(family, params, x, y, prepared, spec, text=["kind"])
    assert prepared.used > 0  # the second pass read kept folds
    np.testing.assert_allclose(first, fresh, rtol=0, atol=1e-12)
    np.testing.assert_allclose(again, fresh, rtol=0, atol=1e-12)


def test_each_family_keeps_its_own_prepared_folds() -> None:
    frame, spec = _frame(), _spec()
    x, y = frame[["a", "b", "kind"]], frame["y"].to_numpy()
    prepared = PreparedFolds(x, y, folds(frame, y, spec))
    forest = pipeline.build("random_forest", {"n_estimators": 5}, "class_weight", 0, text=["kind"])
    linear = pipeline.build("logistic_regression", {}, "class_weight", 0, text=["kind"])
    scaled = prepared.fold(0, linear).train_x
    assert np.allclose(np.nanmean(scaled, axis=0), 0, atol=1e-9)  # the linear model's scaling
    assert not np.allclose(np.nanmean(prepared.fold(0, forest).train_x, axis=0), 0, atol=1e-3)


def test_a_budget_of_nothing_keeps_no_fold() -> None:
    frame, spec = _frame(), _spec()
    x, y = frame[["a", "b"]], frame["y"].to_numpy()
    prepared = PreparedFolds(x, y, folds(frame, y, spec), budget=0)
    prepared.fold(0, pipeline.build("logistic_regression", {}, "class_weight", 0))
    assert prepared.used == 0


def test_weak_trials_stop_early_and_the_best_runs_every_fold() -> None:
    # Linear models only: trials cost milliseconds, and C alone moves the folds' scores.
    frame = _frame()
    spec = _spec(cv_folds=4).model_copy(update={"families": ["logistic_regression"]})
    seen: list[tuple[int, float]] = []
    found = search(
        frame, ["a", "b", "kind"], "y", spec, 12, lambda n, v: seen.append((n, v)), ["kind"]
    )
    states = {t["state"] for t in found.trials}
    assert "pruned" in states
    assert [n for n, _ in seen] == list(range(12))  # progress hears of pruned trials too
    best = max((t for t in found.trials if t["state"] == "complete"), key=lambda t: t["value"])
    assert found.cv_score == pytest.approx(best["value"])
    assert best["folds"] == 4
    assert not np.isnan(found.oof).any()
    for trial in found.trials:
        assert trial["seconds"] >= 0
        assert trial["family"] in spec.families
        assert trial["folds"] == 4 or trial["state"] == "pruned"


@pytest.mark.parametrize(("inputs", "widest"), [(5, 1.0), (124, "log2")])
def test_forest_column_sampling_follows_the_tables_width(inputs: int, widest: Any) -> None:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    sizes = {
        pipeline.suggest(study.ask(), "random_forest", inputs)["max_features"] for _ in range(60)
    }
    assert widest in sizes
    if inputs > pipeline.WIDE:
        assert sizes <= {"sqrt", "log2"}
