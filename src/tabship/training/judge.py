"""How a trained model is judged, per task: the test metrics that are tagged and gated,
the baseline it must beat, the threshold (classification), and the report with its plots."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tabship.errors import UseCaseError
from tabship.registry.gates import GateResult
from tabship.training import pipeline, regression, report
from tabship.training.baseline import (
    NOTEBOOK,
    declared_baseline,
    linear_baseline,
    notebook_baseline,
    plain_baseline,
)
from tabship.training.evaluate import evaluate, plot
from tabship.training.fitted import Fitted
from tabship.training.search import SearchResult, folds, labels
from tabship.training.split import Split
from tabship.training.threshold import choose
from tabship.usecase import UseCase

Render = Callable[[str, dict[str, Any], list[GateResult], Path], str]


@dataclass(frozen=True)
class Judged:
    """A fitted model's verdict: its test metrics, the baseline's, the threshold, the report."""

    metrics: dict[str, float]  # the model's, on the test split
    baseline: dict[str, float]  # the baseline's, on the same split
    threshold: float | None
    render: Render  # writes the plots into a folder and returns the Markdown report


def judge_classifier(
    usecase: UseCase, model: Fitted, split: Split, working: pd.DataFrame, found: SearchResult
) -> Judged:
    """Judge a classifier: threshold on out-of-fold scores, test metrics, baseline, report."""
    spec, target = usecase.training, str(usecase.target)
    assert spec is not None
    features = usecase.feature_view.features
    scored = ~np.isnan(found.oof)
    oof = found.oof[scored]
    if model.calibration is not None:  # the threshold is a probability of the served scores
        oof = model.calibration(oof)
    threshold = choose(working[target].to_numpy()[scored], oof, spec.cost).value
    proba = model.score(split.test)
    y_test = split.test[target].astype(int).to_numpy()
    prior = float(split.train[target].mean())
    evaluation = evaluate(y_test, proba, threshold, spec.cost, prior)
    declared = _declared_baseline(usecase, split, spec.seed)
    if spec.baseline == NOTEBOOK:
        baseline = notebook_baseline(
            split.train, split.test, features, usecase.entity, target, spec.seed
        )
    else:
        name, columns, recipe = declared or plain_baseline(features, model.text, spec.seed)
        baseline = declared_baseline(recipe, columns, name, split.train, split.test, target)

    def render(title: str, facts: dict[str, Any], gates: list[GateResult], folder: Path) -> str:
        plot(y_test, proba, evaluation, folder, facts.get("positive_class"))
        return report.markdown(
            title,
            facts,
            evaluation,
            baseline,
            gates,
            found.cv_score,
            spec.objective,
            f"{target} = {facts.get('positive_class', 1)}",
        )

    return Judged(evaluation.metrics, baseline.honest, threshold, render)


def _declared_baseline(
    usecase: UseCase, split: Split, seed: int
) -> tuple[str, list[str], Any] | None:
    """The use case's original model (``training.baseline``) as (name, columns, estimator)."""
    spec = usecase.training
    assert spec is not None
    if spec.baseline is None or spec.baseline == NOTEBOOK:
        return None
    made = usecase.load_callable(spec.baseline)(seed)
    if not (isinstance(made, tuple) and len(made) == 3):
        raise UseCaseError(f"{spec.baseline} must return (name, columns, estimator)")
    name, columns, estimator = made
    missing = [c for c in columns if c not in split.train.columns]
    if missing:
        raise UseCaseError(f"baseline {name} needs column(s) not in the feature table: {missing}")
    return str(name), list(columns), estimator


def judge_regressor(
    usecase: UseCase, model: Fitted, split: Split, working: pd.DataFrame, found: SearchResult
) -> Judged:
    """Judge a regressor: test errors, the fit diagnosis, the baseline, report."""
    spec, target = usecase.training, str(usecase.target)
    assert spec is not None
    features = usecase.feature_view.features
    y, y_test = labels(split.train, target, "regression"), labels(split.test, target, "regression")
    cv = folds(split.train, y, spec)
    same_rows = len(working) == len(split.train)  # the search's folds are these folds

    def ours() -> Any:
        return pipeline.build(
            found.family,  # type: ignore[arg-type]
            found.params,
            spec.imbalance,
            spec.seed,
            spec.task,
            model.text,
            spec.categories,
        )

    fit = regression.diagnose(
        found.family,
        ours,
        model,
        split.train[features],
        y,
        split.test[features],
        y_test,
        cv,
        found.oof if same_rows else None,
        spec.curve_rows,
    )
    name, base = _baseline_fit(usecase, split, y, y_test, cv, model.text)
    fits = [fit, base]
    median = regression.metrics(y_test, np.full(len(y_test), float(np.median(y))))

    def render(title: str, facts: dict[str, Any], gates: list[GateResult], folder: Path) -> str:
        bands = regression.by_band(y_test, fits)
        groups = (
            regression.by_group(split.test[spec.errors_by], y_test, fits)
            if spec.errors_by and spec.errors_by in split.test.columns
            else None
        )
        regression.plot(y_test, fits, bands, folder)
        return report.regression_markdown(
            title, facts, fits, name, bands, groups, gates, spec.objective, spec.errors_by, median
        )

    return Judged(fit.test, base.test, None, render)


def _baseline_fit(
    usecase: UseCase, split: Split, y: Any, y_test: Any, cv: Any, text: list[str]
) -> tuple[str, Any]:
    """The declared baseline (else a linear model on the same features), diagnosed on the
    same folds."""
    assert usecase.training is not None
    name, columns, recipe = _declared_baseline(
        usecase, split, usecase.training.seed
    ) or linear_baseline(usecase.feature_view.features, text)

    def theirs() -> Any:
        from sklearn.base import clone

        return clone(recipe)

    base = regression.diagnose(
        "baseline",
        theirs,
        theirs().fit(split.train[columns], y),
        split.train[columns],
        y,
        split.test[columns],
        y_test,
        cv,
        curve_rows=usecase.training.curve_rows,
    )
    return name, base


def judge(
    usecase: UseCase, model: Any, split: Split, working: pd.DataFrame, found: SearchResult
) -> Judged:
    """Judge a fitted model by its task."""
    spec = usecase.training
    assert spec is not None
    if spec.task == "regression":
        return judge_regressor(usecase, model, split, working, found)
    return judge_classifier(usecase, model, split, working, found)
