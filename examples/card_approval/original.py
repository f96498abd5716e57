"""The data scientist's original model, as handed over (Nubank's "Data Scientist coding
test", `model.py`), kept to compare against and to show what its protocol hides.

It splits by drawing index labels (the file's index repeats, so a repeated row stays on
one side), fills missing score_3 with 425 for training but 455 for validation, turns
missing labels into "no default", and fits a logistic regression (C=0.1, liblinear: the
solver scikit-learn 0.19 used by default) on score_3..score_6; income is ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline, make_pipeline

SCORES = ["score_3", "score_4", "score_5", "score_6"]


@dataclass(frozen=True)
class Original:
    """The original script's split sizes, validation AUC and model."""

    train_rows: int
    validation_rows: int
    auc: float
    model: LogisticRegression


def split_dataset(
    frame: pd.DataFrame, fraction: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The original split: index labels drawn without replacement (duplicates stay together)."""
    drawn = np.random.RandomState(seed).choice(
        frame.index, int(len(frame) * fraction), replace=False
    )
    chosen = frame.index.isin(drawn)
    return frame[~chosen], frame[chosen]


def original(raw: pd.DataFrame) -> Original:
    """The original protocol on the raw file (its pandas index included)."""
    train, validation = split_dataset(raw, 0.25, 1)
    x = train[SCORES].fillna({"score_3": 425})
    y = train["default"].fillna(False).astype(bool)
    model = LogisticRegression(C=0.1, solver="liblinear").fit(x, y)
    xv = validation[SCORES].fillna({"score_3": 455})
    yv = validation["default"].fillna(False).astype(bool)
    auc = float(roc_auc_score(yv, model.predict_proba(xv)[:, 1]))
    return Original(len(train), len(validation), auc, model)


def baseline(seed: int) -> tuple[str, list[str], Pipeline]:
    """Declared as ``training.baseline``: the same model, scored on our split. Its missing
    score_3 gets the training fill (425) everywhere: the 455 used for validation was a slip."""
    recipe = make_pipeline(
        SimpleImputer(strategy="constant", fill_value=425),
        LogisticRegression(C=0.1, solver="liblinear"),
    )
    return "the original logistic regression on score_3..score_6", SCORES, recipe
