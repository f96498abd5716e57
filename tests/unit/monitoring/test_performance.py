"""Outcomes joined to logged predictions, by request id and by entity and time, give the
metrics a hand count gives."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from tabship.monitoring.logread import LogScan
from tabship.monitoring.performance import Labels, join, score
from tabship.serving.predlog import Entry

T0 = dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)
COST = {"false_negative": 5.0, "false_positive": 1.0}


def _log(folder: Path, rows: list[tuple[str, int, float, float]]) -> Path:
    """(request id, entity, hours after T0, score) → one day of version 1's log."""
    folder.mkdir(parents=True)
    with (folder / f"{T0.date()}.jsonl").open("wb") as handle:
        for request, entity, hours, prediction in rows:
            when = (T0 + dt.timedelta(hours=hours)).timestamp()
            entry = Entry(
                request, when, "m", "1", "champion", False, entity, ["x"], [1.0], prediction, 0.001
            )
            handle.write(entry.as_json() + b"\n")
    return folder


def test_labels_by_request_id_give_the_hand_counted_metrics(tmp_path: Path) -> None:
    folder = _log(
        tmp_path / "log",
        [("a", 1, 0, 0.9), ("b", 2, 1, 0.8), ("c", 3, 2, 0.3), ("d", 4, 3, 0.2), ("e", 5, 4, 0.6)],
    )
    labels = tmp_path / "labels.csv"
    labels.write_text("request_id,default\na,1\nb,0\nc,1\nd,0\nzzz,1\n")
    con = duckdb.connect()
    spec = Labels(labels, "default", 1)
    assert join(con, LogScan(folder), spec) == (4, 1)  # "zzz" was never logged
    (found,) = score(con, spec, "classification", {"1": 0.5}, COST, "all")
    assert found.rows == 4
    assert found.positives == 2
    assert found.metrics["roc_auc"] == pytest.approx(0.75)  # 3 of 4 pairs in order
    assert found.metrics["brier"] == pytest.approx((0.01 + 0.64 + 0.49 + 0.04) / 4)
    assert found.metrics["cost_per_row"] == pytest.approx((5 * 1 + 1 * 1) / 4)


def test_labels_by_entity_and_time_take_the_last_prediction_before_them(tmp_path: Path) -> None:
    folder = _log(tmp_path / "log", [("a", 7, 0, 0.9), ("b", 7, 5, 0.2), ("c", 8, 1, 0.4)])
    labels = tmp_path / "labels.csv"
    labels.write_text(
        "id,decided_at,default\n"
        "7,2026-11-02 12:00:00,1\n"  # after a (09:00), before b (14:00): a's 0.9
        "7,2026-11-03 00:00:00,0\n"  # after b: b's 0.2
        "8,2026-11-02 09:30:00,1\n"  # before c (10:00): nothing to join
    )
    con = duckdb.connect()
    spec = Labels(labels, "default", 1, by="entity", key="id", time="decided_at")
    assert join(con, LogScan(folder), spec) == (2, 1)
    pairs = sorted(con.execute("SELECT prediction, outcome FROM joined").fetchall())
    assert pairs == [(0.2, 0), (0.9, 1)]
    (found,) = score(con, spec, "classification", {"1": 0.5}, COST, "day")
    assert found.period == "2026-11-02"
    assert found.metrics["roc_auc"] == pytest.approx(1.0)
    assert found.metrics["cost_per_row"] == pytest.approx(0.0)
