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
from tabship.training.prepared import PreparedFolds
from tabship.usecase.training import LOWER_IS_BETTER, Family, TrainingSpec

METRICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "average_precision": lambda y, p: float(average_precision_score(y, p)),
    "roc_auc": lambda y, p: float(roc_auc_score(y, p)),
    "rmse": lambda y, p: float(root_mean_squared_error(y, p)),
    "mae": lambda y, p: float(mean_absolute_error(y, p)),
}
PRUNE_AFTER = 5  # trials that always run every fold before pruning starts


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
    cv: list[tuple[np.ndarray, np.ndarray]] | PreparedFolds,
    spec: TrainingSpec,
    make: Callable[..., Any] = pipeline.build,
    text: Sequence[str] = (),
    after_fold: Callable[[int, np.ndarray], None] | None = None,
) -> np.ndarray:
    """Scores of every row from a model that never saw it (NaN where no fold scores it).

    Each fold's steps before the model (imputation and resampling included) are fitted on
    that fold's training rows only; ``after_fold`` sees the scores so far after each fold
    (and may stop the trial).
    """
    prepared = cv if isinstance(cv, PreparedFolds) else PreparedFolds(x, y, cv, budget=0)
    oof = np.full(len(y), np.nan)
    for index, (_, valid_idx) in enumerate(prepared.cv):
        pipe = make(family, params, spec.imbalance, spec.seed, spec.task, text, spec.categories)
        fold = prepared.fold(index, pipe)
        model = pipe.steps[-1][1]
        model.fit(fold.train_x, fold.train_y)
        oof[valid_idx] = predict(model, fold.valid_x, spec.task)
        if after_fold is not None:
            after_fold(index, oof)
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
    prepared = PreparedFolds(x, y, folds(frame, y, spec))
    score = METRICS[spec.objective]
    cache: dict[int, np.ndarray] = {}

    def objective(trial: optuna.Trial) -> float:
        family = cast(Family, trial.suggest_categorical("family", spec.families))
        params = pipeline.suggest(trial, family, len(features))

        def after_fold(index: int, oof: np.ndarray) -> None:
            scored = ~np.isnan(oof)
            try:
                trial.report(score(y[scored], oof[scored]), step=index)
            except ValueError:  # one class so far: nothing to compare yet
                return
            if index + 1 < len(prepared.cv) and trial.should_prune():
                raise optuna.TrialPruned

        oof = out_of_fold(family, params, x, y, prepared, spec, text=text, after_fold=after_fold)
        scored = ~np.isnan(oof)
        value = score(y[scored], oof[scored])
        cache[trial.number] = oof
        return value

    def tell(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if on_trial is not None:
            on_trial(trial.number, _last_value(trial))

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="minimize" if spec.objective in LOWER_IS_BETTER else "maximize",
        sampler=optuna.samplers.TPESampler(seed=spec.seed),
        # A trial whose first folds score below the median of earlier trials at the same
        # fold stops there; the best trial always runs every fold.
        pruner=optuna.pruners.MedianPruner(n_startup_trials=PRUNE_AFTER, n_warmup_steps=0),
    )
    study.optimize(objective, n_trials=trials, callbacks=[tell])
    best = study.best_trial
    family = str(best.params["family"])
    params = {k.split("_", 1)[1]: v for k, v in best.params.items() if k != "family"}
    return SearchResult(
        family, params, float(best.value or 0.0), cache[best.number], _history(study)
    )


def _last_value(trial: optuna.trial.FrozenTrial) -> float:
    """A finished trial's score, or a pruned one's score at its last fold."""
    if trial.value is not None:
        return float(trial.value)
    steps = trial.intermediate_values
    return float(steps[max(steps)]) if steps else float("nan")


def _history(study: optuna.Study) -> list[dict[str, Any]]:
    """Every trial: number, state, score, folds run, seconds, and its parameters."""
    return [
        {
            "number": t.number,
            "state": t.state.name.lower(),
            "value": t.value if t.value is not None else _last_value(t),
            "folds": len(t.intermediate_values),
            "seconds": round(t.duration.total_seconds(), 2) if t.duration else None,
            **t.params,
        }
        for t in study.trials
    ]
