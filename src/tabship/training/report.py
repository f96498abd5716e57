"""The evaluation report of one training run, as Markdown (logged with the run)."""

from __future__ import annotations

from typing import Any

from tabship.registry.gates import GateResult
from tabship.training.baseline import Baseline
from tabship.training.evaluate import Evaluation


def _row(name: str, value: float) -> str:
    return f"| {name} | {value:.4f} |"


def markdown(
    title: str,
    facts: dict[str, Any],
    evaluation: Evaluation,
    baseline: Baseline,
    gates: list[GateResult],
    cv_score: float,
    metric: str,
) -> str:
    m = evaluation.metrics
    (tn, fp), (fn, tp) = evaluation.confusion
    lines = [
        f"# {title}",
        "",
        *(f"- {k}: `{v}`" for k, v in facts.items()),
        "",
        "## Test split (never seen by the search or the threshold choice)",
        "",
        "| metric | value |",
        "| --- | ---: |",
        _row("ROC-AUC", m["roc_auc"]),
        _row("PR-AUC (average precision)", m["pr_auc"]),
        _row("Brier score", m["brier"]),
        _row("positive rate", m["positive_rate"]),
        _row("decision threshold (chosen on out-of-fold scores)", m["threshold"]),
        _row("precision at threshold", m["precision"]),
        _row("recall at threshold", m["recall"]),
        _row("business cost per applicant", m["cost_per_row"]),
        "",
        f"Cross-validated {metric} of the chosen configuration: {cv_score:.4f}.",
        "",
        "Decisions at the threshold:",
        "",
        "| | accepted | refused |",
        "| --- | ---: | ---: |",
        f"| paid on time | {tn:,} | {fp:,} |",
        f"| defaulted | {fn:,} | {tp:,} |",
        "",
        "![evaluation](evaluation.png)",
        "",
        "## Against the notebook's protocol",
        "",
        "| | accuracy | precision | recall | PR-AUC |",
        "| --- | ---: | ---: | ---: | ---: |",
        "| notebook, as it reported itself (SMOTE before the split, rows of a user on both sides)"
        f" | {baseline.own_protocol['accuracy']:.3f} | {baseline.own_protocol['precision']:.3f}"
        f" | {baseline.own_protocol['recall']:.3f} | – |",
        "| notebook recipe, scored on our test split"
        f" | {baseline.honest['accuracy']:.3f} | {baseline.honest['precision']:.3f}"
        f" | {baseline.honest['recall']:.3f} | {baseline.honest['pr_auc']:.3f} |",
        f"| this model, at its threshold | {m['accuracy']:.3f} | {m['precision']:.3f}"
        f" | {m['recall']:.3f} | {m['pr_auc']:.3f} |",
        "",
        "Why the notebook's own numbers are higher: it created synthetic defaulters before"
        " splitting, so near-copies of test rows were in training, and every user's other loans"
        " were too. Its accuracy mostly counts the majority class. Scored on users it has never"
        " seen, the same recipe finds few defaulters.",
        "",
        "## Gates",
        "",
        *(f"- {g.describe()}" for g in gates),
        "",
    ]
    return "\n".join(lines)
