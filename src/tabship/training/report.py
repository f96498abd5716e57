"""The evaluation report of one training run, as Markdown (logged with the run)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from tabship.registry.gates import GateResult
from tabship.training.baseline import Baseline
from tabship.training.evaluate import Evaluation
from tabship.training.regression import Fit


def _row(name: str, value: float) -> str:
    return f"| {name} | {value:.4f} |"


_WHY_HIGHER = [
    "Why the notebook's own numbers are higher: it created synthetic defaulters before"
    " splitting, so near-copies of test rows were in training, and every user's other loans"
    " were too. Its accuracy mostly counts the majority class. Scored on users it has never"
    " seen, the same recipe finds few defaulters.",
    "",
]


def _own_protocol(baseline: Baseline) -> list[str]:
    own = baseline.own_protocol
    if own is None:
        return []
    return [
        f"| {baseline.name}, as it reported itself (SMOTE before the split, rows of a user on"
        f" both sides) | {own['accuracy']:.3f} | {own['precision']:.3f} | {own['recall']:.3f} | – |"
    ]


def _against(baseline: Baseline, m: dict[str, float]) -> list[str]:
    """The baseline beside this model, on the same test split."""
    return [
        f"## Against the baseline: {baseline.name}",
        "",
        "| | accuracy | precision | recall | PR-AUC |",
        "| --- | ---: | ---: | ---: | ---: |",
        *_own_protocol(baseline),
        f"| {baseline.name}, scored on our test split (its 0.5 rule)"
        f" | {baseline.honest['accuracy']:.3f} | {baseline.honest['precision']:.3f}"
        f" | {baseline.honest['recall']:.3f} | {baseline.honest['pr_auc']:.3f} |",
        f"| this model, at its threshold | {m['accuracy']:.3f} | {m['precision']:.3f}"
        f" | {m['recall']:.3f} | {m['pr_auc']:.3f} |",
        f"| the prior (always the base rate) | – | – | – | {m['positive_rate']:.3f} |",
        "",
        *(_WHY_HIGHER if baseline.own_protocol else []),
    ]


def markdown(
    title: str,
    facts: dict[str, Any],
    evaluation: Evaluation,
    baseline: Baseline,
    gates: list[GateResult],
    cv_score: float,
    metric: str,
    positive: str,
) -> str:
    """The evaluation report of a classifier, in Markdown."""
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
        _row("Brier score (calibration: lower is better)", m["brier"]),
        _row("Brier score of the prior (always the training base rate)", m["brier_base_rate"]),
        _row("positive rate", m["positive_rate"]),
        _row("decision threshold (chosen on out-of-fold scores)", m["threshold"]),
        _row("precision at threshold", m["precision"]),
        _row("recall at threshold", m["recall"]),
        _row("business cost per row", m["cost_per_row"]),
        "",
        f"Cross-validated {metric} of the chosen configuration: {cv_score:.4f}.",
        "",
        "Decisions at the threshold:",
        "",
        "| | scored below (negative) | scored at or above (positive) |",
        "| --- | ---: | ---: |",
        f"| truly {positive.replace(' = ', ' ≠ ')} | {tn:,} | {fp:,} |",
        f"| truly {positive} | {fn:,} | {tp:,} |",
        "",
        "![evaluation](evaluation.png)",
        "",
        *_against(baseline, m),
        "## Gates",
        "",
        *(f"- {g.describe()}" for g in gates),
        "",
    ]
    return "\n".join(lines)


def _fmt(name: str, value: float) -> str:
    if name == "r2":
        return f"{value:.3f}"
    if name == "mape":
        return f"{value:.1%}"
    return f"{value:,.0f}"


_NAMES = {"mae": "MAE", "rmse": "RMSE", "r2": "R²", "mape": "MAPE"}


def regression_markdown(
    title: str,
    facts: dict[str, Any],
    fits: list[Fit],
    baseline_name: str,
    bands: pd.DataFrame,
    groups: pd.DataFrame | None,
    gates: list[GateResult],
    objective: str,
    errors_by: str | None,
    median: dict[str, float],
) -> str:
    """The report of a regression: errors, fit diagnosis, where the errors are."""
    model, base = fits[0], fits[1]
    lines = [
        f"# {title}",
        "",
        *(f"- {k}: `{v}`" for k, v in facts.items()),
        "",
        "## Test split (never seen by the search)",
        "",
        f"| metric | this model ({model.name}) | baseline: {baseline_name} |",
        "| --- | ---: | ---: |",
        *(
            f"| {label} | {_fmt(m, model.test[m])} | {_fmt(m, base.test[m])} |"
            for m, label in _NAMES.items()
        ),
        "",
        f"The prior (the training median, for every row): MAE {_fmt('mae', median['mae'])},"
        f" RMSE {_fmt('rmse', median['rmse'])}, R² {_fmt('r2', median['r2'])}.",
        "",
        f"Search objective: cross-validated {objective}.",
        "",
        *_fit_section(fits),
        "## Where the errors are",
        "",
        _table(bands),
        "",
    ]
    if groups is not None:
        lines += [
            f"Worst and best {errors_by} (mean absolute % error on the test split, groups of"
            " 5 rows or more):",
            "",
            _table(groups),
            "",
        ]
    lines += [
        "![evaluation](evaluation.png)",
        "",
        "## Gates",
        "",
        *(f"- {g.describe()}" for g in gates),
        "",
    ]
    return "\n".join(lines)


def _fit_section(fits: list[Fit]) -> list[str]:
    """Train, cross-validated and test errors side by side, verdicts, learning curves."""
    return [
        "## Does it over- or under-fit?",
        "",
        "Errors on the rows a model learnt from, on rows it did not see (cross-validated on"
        " the training split) and on the test split:",
        "",
        "| model | train RMSE | CV RMSE | test RMSE | train R² | CV R² | test R² |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        *(
            f"| {f.name} | {f.train['rmse']:,.0f} | {f.cv['rmse']:,.0f} | {f.test['rmse']:,.0f}"
            f" | {f.train['r2']:.3f} | {f.cv['r2']:.3f} | {f.test['r2']:.3f} |"
            for f in fits
        ),
        "",
        *(f"- {f.name}: {f.verdict()}." for f in fits),
        "",
        "Learning curve (RMSE by number of training rows):",
        "",
        "| model | rows | on rows learnt | on unseen rows |",
        "| --- | ---: | ---: | ---: |",
        *(f"| {f.name} | {n:,} | {t:,.0f} | {v:,.0f} |" for f in fits for n, t, v in f.curve),
        "",
    ]


def _table(frame: pd.DataFrame) -> str:
    def cell(column: str, value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.1%}" if column.endswith("MAPE") else f"{value:,.0f}"
        return f"{value:,}" if isinstance(value, int) else str(value)

    head = "| " + " | ".join(frame.columns) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    body = [
        "| " + " | ".join(cell(c, v) for c, v in zip(frame.columns, row, strict=True)) + " |"
        for row in frame.itertuples(index=False)
    ]
    return "\n".join([head, rule, *body])
