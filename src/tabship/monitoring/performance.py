"""Performance once outcomes arrive: labels joined to the logged predictions, scored per
version and period, beside what the version's training run measured on its test split.

Labels join by request id (the answer's ``x-request-id``) or by entity and time: a label
dated ``t`` for entity ``e`` belongs to the last prediction for ``e`` at or before ``t``
(DuckDB's ASOF join). The join runs in DuckDB over the log files; only the joined
(score, outcome) pairs reach Python.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from tabship.monitoring.drift import MonitorError
from tabship.monitoring.logread import LogScan, quote, quote_string

By = Literal["request_id", "entity"]
Period = Literal["day", "week", "month", "all"]


@dataclass(frozen=True)
class Labels:
    """Where outcomes are and how to read them."""

    path: Path
    outcome: str  # the outcome column
    positive: Any  # the outcome value that counts as 1 (classification)
    by: By = "request_id"
    key: str = "request_id"  # the request-id column, or the entity column
    time: str | None = None  # by entity: the label's date or time column


@dataclass(frozen=True)
class Scores:
    """One version in one period: how many labelled predictions and how they scored."""

    version: str
    period: str
    rows: int
    positives: int
    metrics: dict[str, float]
    calibration: list[dict[str, float]] = field(default_factory=list)  # per score decile


@dataclass(frozen=True)
class PerformanceResult:
    """Every version and period with labels, and the training figures beside them."""

    model: str
    task: str
    labelled: int  # labels matched to a logged prediction
    unmatched: int  # labels with no logged prediction to join
    scores: list[Scores]
    trained: dict[str, dict[str, float]]  # version → its test-split metrics at training

    def as_dict(self) -> dict[str, Any]:
        """The result as JSON-ready data."""
        return asdict(self)


def join(con: Any, scan: LogScan, labels: Labels) -> tuple[int, int]:
    """View ``joined`` (label, version, time, prediction, outcome); returns how many labels
    matched a logged prediction and how many did not.

    By request id, a label joins every prediction of its request: the serving version's
    and any shadow's (a batch's items share one id: join those by entity and time)."""
    scan.register(con, {})
    read = "read_parquet" if labels.path.suffix == ".parquet" else "read_csv_auto"
    source = quote_string(str(labels.path))
    con.execute(f"CREATE OR REPLACE TEMP VIEW labels AS SELECT * FROM {read}({source})")
    columns = {row[0] for row in con.execute("DESCRIBE labels").fetchall()}
    wanted = [labels.key, labels.outcome, *([labels.time] if labels.by == "entity" else [])]
    absent = [c for c in wanted if c is not None and c not in columns]
    if absent:
        raise MonitorError(f"{labels.path.name} has no column {', '.join(absent)}")
    key, outcome = quote(labels.key), quote(labels.outcome)
    con.execute(
        "CREATE OR REPLACE TEMP VIEW numbered AS "
        "SELECT *, row_number() OVER () AS label FROM labels"
    )
    if labels.by == "request_id":
        match = f"FROM numbered l JOIN log p ON p.request_id = l.{key}::VARCHAR"
    else:
        # Each version's last prediction for the entity at or before the label's time
        # (a shadow version scored the same traffic: it is judged on the same outcomes).
        when = quote(str(labels.time))
        con.execute(
            "CREATE OR REPLACE TEMP VIEW labels_at AS SELECT l.*, v.version AS for_version, "
            f"l.{when}::TIMESTAMP AT TIME ZONE 'UTC' AS label_time "
            "FROM numbered l CROSS JOIN (SELECT DISTINCT version FROM log) v"
        )
        match = (
            f"FROM labels_at l ASOF JOIN log p ON p.id = l.{key}::VARCHAR "
            "AND p.version = l.for_version AND l.label_time >= p.time"
        )
    con.execute(
        "CREATE OR REPLACE TEMP VIEW joined AS SELECT l.label, p.version, p.time, "
        f"p.prediction, l.{outcome} AS outcome {match}"
    )
    matched = int(con.execute("SELECT count(DISTINCT label) FROM joined").fetchone()[0])
    total = int(con.execute("SELECT count(*) FROM labels").fetchone()[0])
    return matched, total - matched


def score(
    con: Any,
    labels: Labels,
    task: str,
    thresholds: dict[str, float | None],
    cost: dict[str, float] | None,
    period: Period,
) -> list[Scores]:
    """Metrics of every version (and period) in view ``joined``."""
    bucket = "'all'" if period == "all" else f"strftime(date_trunc('{period}', time), '%Y-%m-%d')"
    rows = con.execute(
        f"SELECT version, {bucket} AS period, list(prediction), list(outcome) FROM joined "
        "GROUP BY ALL ORDER BY period, version"
    ).fetchall()
    out = []
    for version, when, predictions, outcomes in rows:
        p = np.asarray(predictions, dtype=float)
        if task == "regression":
            y = np.asarray(outcomes, dtype=float)
            out.append(Scores(str(version), str(when), len(y), 0, _regression(y, p)))
            continue
        y = np.asarray([_positive(o, labels.positive) for o in outcomes], dtype=int)
        metrics = _classification(y, p, thresholds.get(str(version)), cost)
        out.append(
            Scores(str(version), str(when), len(y), int(y.sum()), metrics, _calibration(y, p))
        )
    return out


def _positive(value: Any, positive: Any) -> int:
    if isinstance(value, str) and not isinstance(positive, str):
        return int(value.strip().lower() in {"1", "true", "yes"})
    return int(value == positive)


def _classification(
    y: np.ndarray, p: np.ndarray, threshold: float | None, cost: dict[str, float] | None
) -> dict[str, float]:
    """ROC-AUC and PR-AUC (where both classes occur), Brier, and the cost at the threshold."""
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    out = {"brier": float(brier_score_loss(y, p)), "positive_rate": float(y.mean())}
    if 0 < y.sum() < len(y):
        out["roc_auc"] = float(roc_auc_score(y, p))
        out["pr_auc"] = float(average_precision_score(y, p))
    if threshold is not None and cost is not None:
        decided = p >= threshold
        fn = int(np.sum(~decided & (y == 1)))
        fp = int(np.sum(decided & (y == 0)))
        out["cost_per_row"] = (cost["false_negative"] * fn + cost["false_positive"] * fp) / len(y)
        out["recall"] = float(np.sum(decided & (y == 1)) / max(int(y.sum()), 1))
    return out


def _regression(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    return {
        "mae": float(np.mean(np.abs(y - p))),
        "rmse": float(np.sqrt(np.mean((y - p) ** 2))),
    }


def _calibration(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Mean score and observed rate per score decile (the reliability curve's points)."""
    order = np.argsort(p, kind="stable")
    return [
        {"score": float(p[part].mean()), "observed": float(y[part].mean()), "rows": len(part)}
        for part in np.array_split(order, min(bins, len(p)))
        if len(part)
    ]
