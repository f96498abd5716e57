"""Honest evaluation on the test split: ranking, calibration and the decision at the
chosen threshold, with plots a reviewer would rather see than read."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    confusion_matrix,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

from tabship.training.threshold import expected_cost
from tabship.usecase.training import CostSpec


@dataclass
class Evaluation:
    """A classifier's test metrics at its threshold, and the curves the report plots."""

    metrics: dict[str, float]
    confusion: list[list[int]]
    plots: dict[str, Path] = field(default_factory=dict)


def evaluate(
    y: np.ndarray, proba: np.ndarray, threshold: float, cost: CostSpec, prior: float
) -> Evaluation:
    """Metrics of scores ``proba`` against labels ``y``, deciding 'refuse' at ``threshold``;
    ``prior`` (the training base rate) is the score a model that knows nothing gives."""
    y = np.asarray(y).astype(int)
    refuse = proba >= threshold
    tn, fp, fn, tp = confusion_matrix(y, refuse, labels=[0, 1]).ravel()
    metrics = {
        "roc_auc": float(roc_auc_score(y, proba)),
        "pr_auc": float(average_precision_score(y, proba)),
        "brier": float(brier_score_loss(y, proba)),
        "brier_base_rate": float(np.mean((y - prior) ** 2)),
        "precision": float(tp / (tp + fp)) if tp + fp else 0.0,
        "recall": float(tp / (tp + fn)) if tp + fn else 0.0,
        "accuracy": float((tp + tn) / len(y)),
        "cost_per_row": expected_cost(y, proba, threshold, cost),
        "positive_rate": float(y.mean()),
        "threshold": float(threshold),
    }
    return Evaluation(metrics, [[int(tn), int(fp)], [int(fn), int(tp)]])


def plot(
    y: np.ndarray, proba: np.ndarray, evaluation: Evaluation, folder: Path, positive: Any = None
) -> None:
    """ROC, precision-recall, calibration and confusion matrix as PNG files in ``folder``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(2, 2, figsize=(10, 9))
    fpr, tpr, _ = roc_curve(y, proba)
    axes[0, 0].plot(fpr, tpr)
    axes[0, 0].plot([0, 1], [0, 1], linestyle="--", color="grey")
    axes[0, 0].set(
        title=f"ROC (AUC {evaluation.metrics['roc_auc']:.3f})",
        xlabel="false positive rate",
        ylabel="true positive rate",
    )
    precision, recall, _ = precision_recall_curve(y, proba)
    axes[0, 1].plot(recall, precision)
    axes[0, 1].axhline(evaluation.metrics["positive_rate"], linestyle="--", color="grey")
    axes[0, 1].set(
        title=f"Precision-recall (AP {evaluation.metrics['pr_auc']:.3f})",
        xlabel="recall",
        ylabel="precision",
    )
    observed, predicted = calibration_curve(y, proba, n_bins=10, strategy="quantile")
    axes[1, 0].plot(predicted, observed, marker="o")
    top = max(float(predicted.max()), float(observed.max()))
    axes[1, 0].plot([0, top], [0, top], linestyle="--", color="grey")
    axes[1, 0].set(
        title=f"Calibration (Brier {evaluation.metrics['brier']:.4f})",
        xlabel="mean predicted probability",
        ylabel=f"observed share of {positive or 'positives'}",
    )
    matrix = np.array(evaluation.confusion)
    axes[1, 1].imshow(matrix, cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix):
        axes[1, 1].text(j, i, f"{count:,}", ha="center", va="center")
    axes[1, 1].set(
        title=f"Decisions at threshold {evaluation.metrics['threshold']:.3f}",
        xticks=[0, 1],
        yticks=[0, 1],
        xticklabels=["below", "at or above"],
        yticklabels=[f"not {positive or 'positive'}", str(positive or "positive")],
    )
    fig.tight_layout()
    path = folder / "evaluation.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    evaluation.plots["evaluation"] = path
