"""The model as trained, for versions whose ONNX export failed its parity check.

Needs the training libraries (``tabship[train]``); they are imported only when a
native version is loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


class NativeRuntime:
    """The native model (MLflow's pyfunc of the fitted pipeline), where the ONNX export did not
    match."""

    name = "native"
    dtype = np.float64

    def __init__(self, model_dir: Path, features: list[str], classifier: bool) -> None:
        import cloudpickle

        found = sorted(model_dir.rglob("model.pkl"))
        if not found:
            raise FileNotFoundError(f"no model.pkl under {model_dir}")
        with found[0].open("rb") as handle:
            self._model: Any = cloudpickle.load(handle)
        self._features, self._classifier = features, classifier

    def score(self, x: np.ndarray) -> np.ndarray:
        """Scores for a matrix in the model's feature order (NaN = missing)."""
        import pandas as pd

        if hasattr(self._model, "score_codes"):  # a tabship model: vocabulary, calibration
            return np.asarray(self._model.score_codes(x)).reshape(-1)
        frame = pd.DataFrame(x, columns=self._features)
        if self._classifier:
            return np.asarray(self._model.predict_proba(frame))[:, 1]
        return np.asarray(self._model.predict(frame)).reshape(-1)
