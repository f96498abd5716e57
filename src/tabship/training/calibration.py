"""Scores that read as probabilities: lenders read a score of 0.2 as a one-in-five chance
of default. Class weights and resampling move scores away from that on purpose (to rank
the rare class better); Platt scaling, fitted on out-of-fold scores (never the test
split), moves them back without changing their order."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import brier_score_loss

EPS = 1e-6  # float32 (ONNX) still tells 1 - 1e-6 from 1: for averaged probabilities
MARGIN_EPS = 1e-15  # models whose graph gives log-odds: no clip a real score reaches


@dataclass(frozen=True)
class Platt:
    """Platt scaling on the log-odds: p' = sigmoid(slope · logit(p) + intercept), fitted on
    out-of-fold scores. Monotone: the ranking (and ROC-AUC) is unchanged."""

    slope: float
    intercept: float
    eps: float = EPS  # scores are kept within [eps, 1 - eps] before their log-odds

    @classmethod
    def fit(cls, scores: np.ndarray, y: np.ndarray, eps: float = EPS) -> Platt:
        """The two parameters that best turn ``scores`` into probabilities of ``y``."""
        from sklearn.linear_model import LogisticRegression

        z = logit(scores, eps).reshape(-1, 1)
        model = LogisticRegression(C=1e6, max_iter=1000).fit(z, np.asarray(y).astype(int))
        return cls(float(model.coef_[0, 0]), float(model.intercept_[0]), eps)

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        """Calibrated probabilities."""
        z = self.slope * logit(scores, self.eps) + self.intercept
        return np.asarray(1.0 / (1.0 + np.exp(-z)))


def logit(p: np.ndarray, eps: float = EPS) -> np.ndarray:
    """Log-odds, with probabilities kept off 0 and 1."""
    p = np.clip(np.asarray(p, dtype=np.float64), eps, 1 - eps)
    return np.asarray(np.log(p / (1 - p)))


def choose(mode: str, oof: np.ndarray, y: np.ndarray, eps: float = EPS) -> Platt | None:
    """The calibration a version gets: ``sigmoid`` always, ``none`` never, ``auto`` where
    it lowers the out-of-fold Brier score."""
    scored = ~np.isnan(oof)
    scores, labels = oof[scored], np.asarray(y)[scored].astype(int)
    if mode == "none" or len(np.unique(labels)) < 2:
        return None
    platt = Platt.fit(scores, labels, eps)
    if mode == "sigmoid":
        return platt
    before = brier_score_loss(labels, scores)
    after = brier_score_loss(labels, platt(scores))
    return platt if after < before * 0.999 else None
