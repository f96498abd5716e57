"""The decision threshold that minimises a declared business cost."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tabship.usecase.training import CostSpec


@dataclass(frozen=True)
class Threshold:
    """The chosen decision threshold and the business cost it gives."""

    value: float
    cost_per_row: float


def expected_cost(y: np.ndarray, proba: np.ndarray, threshold: float, cost: CostSpec) -> float:
    """Mean cost per row when refusing every row scored at or above ``threshold``."""
    refuse = proba >= threshold
    fn = np.sum(~refuse & (y == 1))
    fp = np.sum(refuse & (y == 0))
    return float((cost.false_negative * fn + cost.false_positive * fp) / len(y))


def choose(y: np.ndarray, proba: np.ndarray, cost: CostSpec) -> Threshold:
    """Scan every distinct score as a cut (exact, O(n log n)); ties go to the lower cut."""
    y = np.asarray(y).astype(int)
    order = np.argsort(-proba, kind="stable")
    scores, labels = proba[order], y[order]
    # Refusing the k highest scores: FP = negatives among them, FN = positives outside.
    positives = labels.sum()
    refused_pos = np.concatenate([[0], np.cumsum(labels)])
    refused_neg = np.concatenate([[0], np.cumsum(1 - labels)])
    costs = cost.false_negative * (positives - refused_pos) + cost.false_positive * refused_neg
    # A cut is only valid between different scores.
    valid = np.concatenate([[True], scores[1:] != scores[:-1], [True]])
    costs = np.where(valid, costs, np.inf)
    k = int(np.argmin(costs))
    value = 1.0 + 1e-12 if k == 0 else float(scores[k - 1])
    return Threshold(value=value, cost_per_row=float(costs[k] / len(y)))
