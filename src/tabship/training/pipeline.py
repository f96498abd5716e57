"""Model pipelines: imputation and resampling live *inside*, so they are fitted on the
training rows of each fold only, never on the rows that score them."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import optuna
from imblearn.over_sampling import SMOTE, SMOTENC
from imblearn.pipeline import Pipeline
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsRegressor
from sklearn.preprocessing import RobustScaler, StandardScaler

from tabship.training.encode import TEXT_STEP, one_hot, text_codes
from tabship.usecase.training import CategorySpec, Family, Task

WIDE = 20  # more declared features than this: a wide table (forests sample columns)

# LightGBM warns that a categorical_feature given to the estimator "will be ignored",
# then uses it (its trees split on the codes as categories); the warning is noise.
warnings.filterwarnings("ignore", message="categorical_feature keyword has been found")


def suggest(trial: optuna.Trial, family: Family, inputs: int) -> dict[str, Any]:
    """The search space of one model family, over ``inputs`` declared features."""
    if family == "random_forest":
        return {
            "n_estimators": trial.suggest_int("rf_n_estimators", 50, 200, step=50),
            "max_depth": trial.suggest_int("rf_max_depth", 3, 12),
            "min_samples_leaf": trial.suggest_int("rf_min_samples_leaf", 5, 200, log=True),
            "max_features": trial.suggest_categorical("rf_max_features", _split_sizes(inputs)),
        }
    if family == "lightgbm":
        return {
            "n_estimators": trial.suggest_int("lgb_n_estimators", 50, 300, step=50),
            "learning_rate": trial.suggest_float("lgb_learning_rate", 0.01, 0.2, log=True),
            "num_leaves": trial.suggest_int("lgb_num_leaves", 7, 63, log=True),
            "min_child_samples": trial.suggest_int("lgb_min_child_samples", 20, 400, log=True),
            "subsample": trial.suggest_float("lgb_subsample", 0.5, 1.0),
            "colsample_bytree": trial.suggest_float("lgb_colsample_bytree", 0.5, 1.0),
            "reg_lambda": trial.suggest_float("lgb_reg_lambda", 1e-3, 10.0, log=True),
        }
    if family == "knn":
        return {
            "n_neighbors": trial.suggest_int("knn_n_neighbors", 3, 40, log=True),
            "weights": trial.suggest_categorical("knn_weights", ["uniform", "distance"]),
        }
    return {"C": trial.suggest_float("lr_C", 1e-3, 10.0, log=True)}


def _split_sizes(inputs: int) -> list[str | float]:
    """Columns a forest's split may look at: on a narrow table up to all of them; on a
    wide one (its one-hot columns many times the inputs) the usual sqrt or log2, since
    a large fraction there costs minutes per tree set and rarely ranks better."""
    return ["sqrt", 0.6, 1.0] if inputs <= WIDE else ["sqrt", "log2"]


def build(
    family: Family,
    params: dict[str, Any],
    imbalance: str,
    seed: int,
    task: Task = "classification",
    text: Sequence[str] = (),
    levels: CategorySpec | None = None,
) -> Pipeline:
    """(text → codes) → (one-hot) → impute → (scale) → (SMOTE) → model, every seed fixed.

    LightGBM reads the codes of the ``text`` columns as categories; the other families
    get one indicator per code.
    """
    steps: list[tuple[str, Any]] = []
    native = family == "lightgbm"
    if text:
        levels = levels or CategorySpec()
        steps.append((TEXT_STEP, text_codes(list(text), levels.max_levels, levels.min_rows)))
        if not native:
            steps.append(("onehot", one_hot(len(text))))
    steps.append(("impute", SimpleImputer(strategy="median", add_indicator=True)))
    categorical = list(range(len(text))) if native else []
    if task == "regression":
        return Pipeline([*steps, *_regressor(family, params, seed, categorical)])
    weight = "balanced" if imbalance == "class_weight" else None
    if family == "random_forest":
        model: Any = RandomForestClassifier(
            **params, class_weight=weight, random_state=seed, n_jobs=-1
        )
    elif native:
        from lightgbm import LGBMClassifier

        model = LGBMClassifier(**params, **_lightgbm(seed, categorical), class_weight=weight)
    else:
        steps.append(("scale", StandardScaler()))
        model = LogisticRegression(**params, class_weight=weight, max_iter=2000)
    if imbalance == "smote":
        # Codes are categories: SMOTE-NC copies them instead of averaging them.
        sampler = (
            SMOTENC(categorical, random_state=seed) if categorical else SMOTE(random_state=seed)
        )
        steps.append(("smote", sampler))
    steps.append(("model", model))
    return Pipeline(steps)


def _lightgbm(seed: int, categorical: list[int]) -> dict[str, Any]:
    """Reproducible LightGBM, bagging every iteration when the search samples rows."""
    return {
        **({"categorical_feature": categorical} if categorical else {}),
        "subsample_freq": 1,
        "random_state": seed,
        "deterministic": True,
        "force_row_wise": True,
        "n_jobs": 2,
        "verbose": -1,
    }


def _regressor(
    family: Family, params: dict[str, Any], seed: int, categorical: list[int]
) -> list[tuple[str, Any]]:
    if family == "random_forest":
        return [("model", RandomForestRegressor(**params, random_state=seed, n_jobs=-1))]
    if family == "lightgbm":
        from lightgbm import LGBMRegressor

        return [("model", LGBMRegressor(**params, **_lightgbm(seed, categorical)))]
    if family == "knn":  # distances need comparable scales
        return [("scale", RobustScaler()), ("model", KNeighborsRegressor(**params))]
    raise ValueError(f"{family} cannot fit a regression")
