"""Hold-out splits that cannot leak: by entity (no user on both sides) or by time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupShuffleSplit

from tabship.errors import TabshipError
from tabship.usecase.training import SplitSpec


@dataclass(frozen=True)
class Split:
    """Train and test rows, split by the declared column (no entity on both sides)."""

    train: pd.DataFrame
    test: pd.DataFrame


def holdout(frame: pd.DataFrame, spec: SplitSpec, seed: int) -> Split:
    """Split ``frame`` as declared; the test side never shares an entity (or a past) with train."""
    if spec.column not in frame.columns:
        raise TabshipError(f"split column '{spec.column}' is not in the feature table")
    if spec.by == "group":
        splitter = GroupShuffleSplit(n_splits=1, test_size=spec.test_size, random_state=seed)
        train_idx, test_idx = next(splitter.split(frame, groups=frame[spec.column]))
    else:
        order = np.argsort(frame[spec.column].to_numpy(), kind="stable")
        cut = int(len(frame) * (1 - spec.test_size))
        train_idx, test_idx = order[:cut], order[cut:]
    return Split(
        frame.iloc[train_idx].reset_index(drop=True), frame.iloc[test_idx].reset_index(drop=True)
    )
