"""Contributions per model column, exact for each family, in the model's raw output:
log-odds for LightGBM and linear classifiers, the probability for a forest (which
averages probabilities), the value for a regressor."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any, Protocol

import numpy as np


class Explainer(Protocol):
    """What a family's explainer gives: contributions per model column and the base."""

    kind: str

    def contributions(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(contributions (rows, columns), base value per row), in the raw output."""
        ...


class LinearExplainer:
    """A linear model, in closed form: coefficient × (value − training mean). The columns
    are standardised on the training rows, so their mean is 0 and the base is the
    intercept."""

    kind = "linear (closed form)"

    def __init__(self, coef: np.ndarray, intercept: float) -> None:
        self.coef, self.intercept = np.asarray(coef, dtype=np.float64), float(intercept)

    def contributions(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Coefficient times standardised value; the base is the intercept."""
        return rows * self.coef, np.full(len(rows), self.intercept)


class LightGBMExplainer:
    """LightGBM's own exact TreeSHAP (``pred_contrib``), in raw log-odds (or value)."""

    kind = "TreeSHAP (LightGBM pred_contrib)"

    def __init__(self, model: str) -> None:
        import lightgbm

        self.booster = lightgbm.Booster(model_str=model)

    def contributions(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """TreeSHAP values; the last column LightGBM returns is the base. A request's few
        rows run on one thread (OpenMP's start costs more than it saves there)."""
        if len(rows) <= 16:
            found = self.booster.predict(rows, pred_contrib=True, num_threads=1)
        else:
            found = self.booster.predict(rows, pred_contrib=True)
        out = np.asarray(found, dtype=np.float64)
        return out[:, :-1], out[:, -1]


class ForestExplainer:
    """A random forest through shap's TreeSHAP, exact in the forest's own output (the
    positive class's probability, or the value)."""

    kind = "TreeSHAP (shap, forest)"

    def __init__(self, model: Any, classifier: bool) -> None:
        import shap

        self.explainer = shap.TreeExplainer(model)
        self.classifier = classifier

    def contributions(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """TreeSHAP values of the positive class (or the value)."""
        values = np.asarray(self.explainer.shap_values(rows, check_additivity=False))
        base = np.atleast_1d(np.asarray(self.explainer.expected_value, dtype=np.float64))
        if self.classifier:
            values = values[..., 1] if values.ndim == 3 else values
            base = base[-1:]
        return values.astype(np.float64), np.full(len(rows), float(base[0]))


def save(explainer_kind: str, payload: Any, folder: Path) -> str:
    """Write what an explainer needs into ``folder``; returns the file's name."""
    folder.mkdir(parents=True, exist_ok=True)
    if explainer_kind == "lightgbm":
        (folder / "lightgbm.txt").write_text(payload)
        return "lightgbm.txt"
    if explainer_kind == "forest":
        (folder / "forest.pkl").write_bytes(pickle.dumps(payload))
        return "forest.pkl"
    coef, intercept = payload
    data = {"coef": [float(c) for c in coef], "intercept": float(intercept)}
    (folder / "linear.json").write_text(json.dumps(data))
    return "linear.json"


def load(explainer_kind: str, folder: Path, classifier: bool) -> Explainer:
    """The explainer a bundle's ``explain`` folder holds."""
    if explainer_kind == "lightgbm":
        return LightGBMExplainer((folder / "lightgbm.txt").read_text())
    if explainer_kind == "forest":
        # The forest was pickled by this version's own training run (a trusted artifact).
        model = pickle.loads((folder / "forest.pkl").read_bytes())
        return ForestExplainer(model, classifier)
    data = json.loads((folder / "linear.json").read_text())
    return LinearExplainer(np.asarray(data["coef"]), float(data["intercept"]))
