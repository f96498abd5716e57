"""Oversampling sees a fold's training rows only: this test fails if SMOTE ran on all
rows before the folds were cut (synthetic rows would carry validation users' values)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from tabship.training import pipeline
from tabship.training.search import folds, out_of_fold
from tabship.usecase.training import SplitSpec, TrainingSpec


class Recorder(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """A real (trivial) estimator that keeps the rows it was trained on."""

    seen: ClassVar[list[np.ndarray]] = []

    def fit(self, x: Any, y: Any) -> Recorder:
        Recorder.seen.append(np.asarray(x)[:, 0].copy())
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, x: Any) -> np.ndarray:
        return np.tile([0.5, 0.5], (len(x), 1))


def test_synthetic_rows_come_from_training_folds_only() -> None:
    rng = np.random.default_rng(3)
    users = np.repeat(np.arange(40), 25)
    # Each user's rows sit in a tight cluster around user * 100, with 8 defaults per user:
    # SMOTE's 5 nearest neighbours of a default are the same user's, so a synthetic row
    # lands in the cluster of the user it was made from.
    frame = pd.DataFrame({"id": users, "x": users * 100 + rng.random(len(users)) * 0.01})
    y = np.tile(np.r_[np.ones(8), np.zeros(17)], 40).astype(int)
    spec = TrainingSpec(split=SplitSpec(by="group", column="id"), imbalance="smote", cv_folds=4)
    cv = folds(frame, y, spec)

    def make(family: Any, params: Any, imbalance: str, seed: int, *_: Any) -> Any:
        pipe = pipeline.build("logistic_regression", {"C": 1.0}, imbalance, seed)
        return pipe.set_params(model=Recorder(), scale="passthrough")

    Recorder.seen = []
    out_of_fold("logistic_regression", {}, frame[["x"]], y, cv, spec, make=make)
    assert len(Recorder.seen) == len(cv)
    for (train_idx, valid_idx), seen in zip(cv, Recorder.seen, strict=True):
        held_out = set(users[valid_idx]) - set(users[train_idx])
        assert held_out
        assert len(seen) > len(train_idx)  # oversampling happened...
        touched = {int(v) for v in np.round(seen / 100)}
        assert touched.isdisjoint(held_out)  # ...from training users' rows only
