"""A loaded model version's scoring function, whatever runs it."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np


class Runtime(Protocol):
    """What serving needs of a model: score a matrix of features, in a known dtype."""

    name: str
    dtype: Any  # numpy scalar type; what the model was checked with: float32 for ONNX graphs

    def score(self, x: np.ndarray) -> np.ndarray:
        """Scores for a ``dtype`` matrix in the model's feature order (NaN = missing)."""
        ...


def deviation(got: np.ndarray, expected: np.ndarray, classifier: bool) -> float:
    """Largest difference between two runtimes' answers: absolute for probabilities,
    relative to the value otherwise (float32 holds about seven significant digits, so a
    price of millions differs in its units)."""
    diff = np.abs(np.asarray(got, dtype=np.float64) - expected)
    if not classifier:
        diff = diff / np.maximum(1.0, np.abs(expected))
    return float(np.max(diff))
