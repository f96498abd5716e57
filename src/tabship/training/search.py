"""Cross-validated hyper-parameter search over the declared model families (Optuna).

Folds respect the split rule (a user's rows stay in one fold; time folds only look back),
every sampler and model is seeded, and the out-of-fold scores of the best configuration
are kept: the decision threshold is chosen on them, never on the test split.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import optuna
import pandas as pd
from sklearn.metrics import (
    average_precision_score,
    mean_absolute_error,
    roc_auc_score,
    root_mean_squared_error,
)
from sklearn.model_selection import GroupKFold, StratifiedGroupKFold, TimeSeriesSplit

from tabship.training import pipeline
from tabship.usecase.training import LOWER_IS_BETTER, Family, TrainingSpec

METRICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "average_precision": lambda y, p: float(average_precision_score(y, p)),
    "roc_auc": lambda y, p: float(roc_auc_score(y, p)),
    "rmse": lambda y, p: float(root_mean_squared_error(y, p)),
    "mae": lambda y, p: float(mean_absolute_error(y, p)),
}


@dataclass(frozen=True)
class SearchResult:
    """The search's best family and parameters, its cross-validated score and every trial."""

    family: str
    params: dict[str, Any]
    cv_score: float
    oof: np.ndarray
    trials: list[dict[str, Any]]


def folds(
    frame: pd.DataFrame, y: np.ndarray, spec: TrainingSpec
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Training/validation row positions of each fold."""
    if spec.split.by == "group":
        groups = frame[spec.split.column]
        if spec.task == "regression":
            plain = GroupKFold(n_splits=spec.cv_folds, shuffle=True, random_state=spec.seed)
            return list(plain.split(frame, y, groups=groups))
        splitter = StratifiedGroupKFold(
            n_splits=spec.cv_folds, shuffle=True, random_state=spec.seed
        )
        return list(splitter.split(frame, y, groups=groups))
    order = np.argsort(frame[spec.split.column].to_numpy(), kind="stable")
    return [(order[a], order[b]) for a, b in TimeSeriesSplit(n_splits=spec.cv_folds).split(order)]


def out_of_fold(
    family: Family,
    params: dict[str, Any],
    x: pd.DataFrame,
    y: np.ndarray,
    cv: list[tuple[np.ndarray, np.ndarray]],
    spec: TrainingSpec,
    make: Callable[..., Any] = pipeline.build,
    text: Sequence[str] = (),
) -> np.ndarray:
    """Scores of every row from a model that never saw it (NaN where no fold scores it).

    A fresh pipeline per fold: imputation and resampling are fitted on that fold's
    training rows only.
    """
    oof = np.full(len(y), np.nan)
    for train_idx, valid_idx in cv:
        model = make(family, params, spec.imbalance, spec.seed, spec.task, text, spec.categories)
        model.fit(x.iloc[train_idx], y[train_idx])
        oof[valid_idx] = predict(model, x.iloc[valid_idx], spec.task)
    return oof


def predict(model: Any, x: pd.DataFrame, task: str) -> np.ndarray:
    """What serving answers: the positive class's probability, or the value."""
    if task == "regression":
        return np.asarray(model.predict(x), dtype=float)
    return np.asarray(model.predict_proba(x))[:, 1]


def labels(frame: pd.DataFrame, target: str, task: str) -> np.ndarray:
    """The target as the model's labels (0/1 for classification)."""
    column = frame[target].to_numpy()
    return column.astype(float) if task == "regression" else column.astype(int)


def search(
    frame: pd.DataFrame,
    features: list[str],
    target: str,
    spec: TrainingSpec,
    trials: int,
    on_trial: Callable[[int, float], None] | None = None,
    text: Sequence[str] = (),
) -> SearchResult:
    """Best family and parameters by cross-validated ``spec.objective`` (out-of-fold)."""
    x, y = frame[features], labels(frame, target, spec.task)
    cv = folds(frame, y, spec)
    score = METRICS[spec.objective]
    cache: dict[int, np.ndarray] = {}

    def objective(trial: optuna.Trial) -> float:
        family = cast(Family, trial.suggest_categorical("family", spec.families))
        params = pipeline.suggest(trial, family)
        oof = out_of_fold(family, params, x, y, cv, spec, text=text)
        scored = ~np.isnan(oof)
        value = score(y[scored], oof[scored])
        cache[trial.number] = oof
        if on_trial is not None:
            on_trial(trial.number, value)
        return value

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="minimize" if spec.objective in LOWER_IS_BETTER else "maximize",
        sampler=optuna.samplers.TPESampler(seed=spec.seed),
    )
    study.optimize(objective, n_trials=trials)
    best = study.best_trial
    family = str(best.params["family"])
    params = {k.split("_", 1)[1]: v for k, v in best.params.items() if k != "family"}
    history = [{"number": t.number, "value": t.value, **t.params} for t in study.trials]
    return SearchResult(family, params, float(best.value or 0.0), cache[best.number], history)
