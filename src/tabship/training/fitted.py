"""A trained model as it is registered and served: the fitted pipeline, its text
vocabulary, and the calibration that turns its scores into probabilities.

The service sends a coded matrix (text already mapped by the version's vocabulary);
``score_codes`` answers it with exactly what the ONNX graph computes, so the native and
ONNX runtimes of one version agree by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from tabship.training.calibration import Platt
from tabship.training.encode import TEXT_STEP, as_text, model_inputs, vocabulary


@dataclass
class Fitted:
    """A fitted pipeline plus what serving it needs: input order, vocabulary, calibration."""

    pipeline: Any
    task: str
    features: list[str]
    text: list[str]
    calibration: Platt | None = None

    @property
    def inputs(self) -> list[str]:
        """The coded matrix's column order (text first)."""
        return model_inputs(self.features, self.text)

    @property
    def vocabulary(self) -> dict[str, dict[str, Any]]:
        """Each text input's levels and codes."""
        return vocabulary(self.pipeline.named_steps[TEXT_STEP]) if self.text else {}

    @cached_property
    def predictor(self) -> Any:
        """The pipeline from codes to scores, without resampling (idle when predicting)."""
        from sklearn.pipeline import Pipeline

        if not hasattr(self.pipeline, "steps"):
            return self.pipeline
        steps = [
            (n, s)
            for n, s in self.pipeline.steps
            if n != TEXT_STEP and not hasattr(s, "fit_resample")
        ]
        return Pipeline(steps)

    def _rows(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The features of raw rows, text as the encoder takes it (missing as NaN)."""
        rows = frame[self.features]
        if self.text:
            rows = rows.assign(**{c: as_text(rows[[c]])[c] for c in self.text})
        return rows

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        """Raw feature rows → the coded float matrix the runtimes score."""
        if not self.text:
            return frame[self.features].to_numpy(np.float64)
        coded = self.pipeline.named_steps[TEXT_STEP].transform(self._rows(frame))
        return np.asarray(coded, dtype=np.float64)

    def score_codes(self, x: np.ndarray) -> np.ndarray:
        """What the service answers for a coded matrix: a probability, or the value."""
        frame = x if self.text else pd.DataFrame(x, columns=self.features)
        if self.task == "regression":
            return np.asarray(self.predictor.predict(frame), dtype=np.float64).reshape(-1)
        proba = np.asarray(self.predictor.predict_proba(frame))[:, 1]
        return proba if self.calibration is None else self.calibration(proba)

    def score(self, frame: pd.DataFrame) -> np.ndarray:
        """Scores of raw feature rows (text as text)."""
        rows = self._rows(frame)
        if self.task == "regression":
            return np.asarray(self.pipeline.predict(rows), dtype=np.float64)
        proba = np.asarray(self.pipeline.predict_proba(rows))[:, 1]
        return proba if self.calibration is None else self.calibration(proba)

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Both classes' probabilities (calibrated), as scikit-learn answers."""
        p = self.score(frame)
        return np.column_stack([1 - p, p])

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """The score (a classifier's probability of the positive class, or the value)."""
        return self.score(frame)
