"""Fold inputs prepared once per pipeline shape, for a search whose trials differ in the model.

Every step before the model (text codes, one-hot, imputation, scaling, resampling) has the
same parameters in every trial of a search: fitting them again per trial repeats identical
work. A fold's prepared matrices are kept per shape of those steps, fitted on that fold's
training rows only (resampling included), so cross-validation stays as honest as a fresh
pipeline per fold, and the out-of-fold scores are the same.
"""

from __future__ import annotations

import hashlib
import pickle
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

DEFAULT_BUDGET = 4 * 2**30  # bytes of prepared matrices kept; beyond it, folds are refitted


@dataclass(frozen=True)
class Fold:
    """One fold's model-ready matrices: training inputs and labels, validation inputs."""

    train_x: Any
    train_y: np.ndarray
    valid_x: Any

    @property
    def nbytes(self) -> int:
        """Memory the fold holds (what the cache's budget counts)."""
        return sum(_nbytes(a) for a in (self.train_x, self.train_y, self.valid_x))


@dataclass
class PreparedFolds:
    """Cross-validation folds whose preprocessing is fitted once per (fold, step shape)."""

    x: pd.DataFrame
    y: np.ndarray
    cv: list[tuple[np.ndarray, np.ndarray]]
    budget: int = DEFAULT_BUDGET
    _kept: dict[tuple[int, str], Fold] = field(default_factory=dict, repr=False)

    def fold(self, index: int, pipe: Any) -> Fold:
        """Fold ``index`` run through every step of ``pipe`` but its model."""
        steps = [(name, step) for name, step in pipe.steps[:-1] if not _skipped(step)]
        key = (index, _shape(steps))
        if key in self._kept:
            return self._kept[key]
        train_idx, valid_idx = self.cv[index]
        prepared = _prepare(
            steps, self.x.iloc[train_idx], self.y[train_idx], self.x.iloc[valid_idx]
        )
        if self.used + prepared.nbytes <= self.budget:
            self._kept[key] = prepared
        return prepared

    @property
    def used(self) -> int:
        """Bytes held by the kept folds."""
        return sum(f.nbytes for f in self._kept.values())


def _prepare(steps: list[tuple[str, Any]], train_x: Any, train_y: Any, valid_x: Any) -> Fold:
    """Fit each step on the training rows; samplers resample the training rows only."""
    for _, step in steps:
        if hasattr(step, "fit_resample"):
            train_x, train_y = step.fit_resample(train_x, train_y)
        else:
            train_x = step.fit_transform(train_x, train_y)
            valid_x = step.transform(valid_x)
    return Fold(train_x, np.asarray(train_y), valid_x)


def _shape(steps: list[tuple[str, Any]]) -> str:
    """The steps' names, kinds and every parameter (unfitted steps pickle what they hold)."""
    return hashlib.sha256(pickle.dumps(steps)).hexdigest()


def _skipped(step: Any) -> bool:
    return step is None or (isinstance(step, str) and step == "passthrough")


def _nbytes(array: Any) -> int:
    if isinstance(array, pd.DataFrame):
        return int(array.memory_usage(deep=True).sum())
    return int(getattr(array, "nbytes", 0))
