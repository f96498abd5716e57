"""Structured logs carry the request id; the prediction log keeps missing inputs missing,
and replicas sharing its volume never write into one file."""

from __future__ import annotations

import json
import logging
import math
import socket
from pathlib import Path

import pytest

from tabship.serving.logs import JsonFormatter, request_id
from tabship.serving.predlog import Entry, PredictionLog, host_writer


def test_json_log_lines_carry_the_request_id_and_extra_fields() -> None:
    record = logging.makeLogRecord(
        {"name": "tabship.pool", "levelname": "ERROR", "msg": "version refused", "model": "m"}
    )
    token = request_id.set("req-42")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id.reset(token)
    assert line["request_id"] == "req-42"
    assert line["message"] == "version refused"
    assert line["model"] == "m"
    assert line["level"] == "error"
    assert "request_id" not in json.loads(JsonFormatter().format(record))


def test_prediction_log_writes_missing_values_as_null_and_everything_on_close(
    tmp_path: Path,
) -> None:
    log = PredictionLog(tmp_path, flush_interval=60)  # only the close flushes here
    log.start()
    for n in range(100):
        log.append(
            Entry(
                f"r{n}",
                1.7e9,
                "m",
                "3",
                "champion",
                False,
                n,
                ["a", "b"],
                [1.0, math.nan],
                0.25,
                0.0004,
            )
        )
    log.close()
    lines = [
        json.loads(x) for f in (tmp_path / "m").glob("*.jsonl") for x in f.read_text().splitlines()
    ]
    assert [x["request_id"] for x in lines] == [f"r{n}" for n in range(100)]
    assert lines[0]["features"] == {"a": 1.0, "b": None}
    assert lines[0]["time"].startswith("2023-11-14T22:13:20")
    assert lines[0]["latency_ms"] == 0.4


def test_a_restarted_log_ends_the_half_line_a_killed_writer_left(tmp_path: Path) -> None:
    day = tmp_path / "m" / "2023-11-14.jsonl"
    day.parent.mkdir()
    day.write_bytes(b'{"request_id": "r0"}\n{"request_id": "cut", "fea')
    seen: list[list[Entry]] = []
    log = PredictionLog(tmp_path, flush_interval=60, observers=[seen.append])
    log.start()
    log.append(Entry("r1", 1.7e9, "m", "3", "champion", False, 1, ["a"], [2.0], 0.5, 0.001))
    log.close()
    lines = day.read_bytes().splitlines()
    assert lines[1] == b'{"request_id": "cut", "fea'  # spoilt alone...
    assert json.loads(lines[2])["request_id"] == "r1"  # ...the next entry stays whole
    assert [e.request_id for batch in seen for e in batch] == ["r1"]  # observers see it


def test_replicas_sharing_a_volume_each_write_files_of_their_own(tmp_path: Path) -> None:
    for writer in ("predictions-7f9c-a", "predictions-7f9c-b"):
        log = PredictionLog(tmp_path, flush_interval=60, writer=writer)
        log.start()
        log.append(Entry(writer, 1.7e9, "m", "3", "champion", False, 1, ["a"], [2.0], 0.5, 0.0))
        log.close()
    files = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert files == ["2023-11-14.predictions-7f9c-a.jsonl", "2023-11-14.predictions-7f9c-b.jsonl"]
    with pytest.raises(ValueError, match="letters, digits"):
        PredictionLog(tmp_path, flush_interval=60, writer="../elsewhere")


def test_the_host_name_becomes_a_safe_writer_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "gethostname", lambda: "predictions-5d8b.cluster.local")
    assert host_writer() == "predictions-5d8b"
    monkeypatch.setattr(socket, "gethostname", lambda: "my box/2")
    assert host_writer() == "my-box-2"
