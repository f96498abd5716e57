"""A loaded model version's scoring function, whatever runs it."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np


class Runtime(Protocol):
    name: str
    dtype: Any  # numpy scalar type; what the model was checked with: float32 for ONNX graphs

    def score(self, x: np.ndarray) -> np.ndarray:
        """Scores for a ``dtype`` matrix in the model's feature order (NaN = missing)."""
        ...
