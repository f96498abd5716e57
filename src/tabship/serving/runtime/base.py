"""A loaded model version's scoring function, whatever runs it."""

from __future__ import annotations

from typing import Protocol

import numpy as np


class Runtime(Protocol):
    name: str

    def score(self, x: np.ndarray) -> np.ndarray:
        """Scores for a float32 matrix in the model's feature order (NaN = missing)."""
        ...
