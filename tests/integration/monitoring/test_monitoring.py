"""Monitoring a served model: live PSI gauges on /metrics move with shifted traffic, and
``tabship monitor drift`` reads the same log into a report, exiting 3 on drift."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from fastapi.testclient import TestClient

from tabship.settings import Settings
from tabship.training.frame import load
from tabship.usecase import load_usecase
from tests.cli_runner import run_cli
from tests.integration.conftest import FEATURES, NAME, PREDICT, entity_ids, point_cli_at


def _rows(settings: Settings, n: int) -> list[dict[str, Any]]:
    """``n`` rows of the feature table the model was trained on: traffic like training's."""
    usecase = load_usecase(NAME, settings.usecases)
    table = load(usecase, settings, None).rows.sample(n, random_state=0)
    return [
        {f: (None if pd.isna(v) else v) for f, v in row.items()}
        for row in table[FEATURES].to_dict("records")
    ]


def _psi(client: TestClient) -> dict[str, float]:
    text = client.get("/metrics").text
    pattern = rf'tabship_drift_psi\{{input="([^"]+)",model="{NAME}",version="1"\}} (\S+)'
    return {name: float(value) for name, value in re.findall(pattern, text)}


def _psi_once(client: TestClient, ready: Callable[[dict[str, float]], bool]) -> dict[str, float]:
    """The gauges once ``ready`` holds (or after 10 s): the log's writer thread feeds the
    live windows after it has written and synced the lines the test waits for."""
    deadline = time.monotonic() + 10
    psi = _psi(client)
    while not ready(psi) and time.monotonic() < deadline:
        time.sleep(0.05)
        psi = _psi(client)
    return psi


def _send(client: TestClient, rows: list[dict[str, Any]], settings: Settings) -> None:
    before = _logged(settings)
    for start in range(0, len(rows), 100):
        answer = client.post(PREDICT, json={"instances": rows[start : start + 100]})
        assert answer.status_code == 200, answer.text
    deadline = time.monotonic() + 10
    while _logged(settings) < before + len(rows) and time.monotonic() < deadline:
        time.sleep(0.05)


def _logged(settings: Settings) -> int:
    return sum(len(p.read_bytes().splitlines()) for p in settings.predictions_dir.rglob("*.jsonl"))


def _shifted(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**row, "age": row["age"] + 25} for row in rows]


@pytest.fixture
def watched(home: Settings) -> Settings:
    """The served home with a small live window and drift verdicts from 200 rows."""
    path = home.usecases / NAME / "usecase.yaml"
    declaration = yaml.safe_load(path.read_text())
    declaration["monitoring"] = {"live_window": 400, "min_rows": 200}
    path.write_text(yaml.safe_dump(declaration))
    return home


@pytest.fixture
def cli_home(watched: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The watched home, as the ``tabship`` command finds it (its environment)."""
    return point_cli_at(watched, monkeypatch)


def test_metrics_psi_gauges_move_when_traffic_shifts(
    watched: Settings, client_for: Callable[..., TestClient]
) -> None:
    client = client_for(watched, sync="off")
    rows = _rows(watched, 400)
    _send(client, rows, watched)
    calm = _psi_once(client, lambda psi: set(psi) == {"score", *FEATURES})
    assert set(calm) == {"score", *FEATURES}
    assert calm["age"] < 0.1
    _send(client, _shifted(rows), watched)  # the window now holds only shifted rows
    moved = _psi_once(client, lambda psi: psi.get("age", 0.0) > 0.25)  # within 10 s
    assert moved["age"] > 0.25
    for name in set(FEATURES) - {"age"}:  # the same rows otherwise: unmoved
        assert moved[name] == pytest.approx(calm[name], abs=1e-9)


def test_monitor_drift_reports_and_exits_3_on_drift(
    cli_home: Settings,
    client_for: Callable[..., TestClient],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = client_for(cli_home, sync="off")
    rows = _rows(cli_home, 400)
    _send(client, rows, cli_home)
    calm = run_cli(["monitor", "drift", NAME, "--out", str(tmp_path / "calm")], capsys, monkeypatch)
    assert calm.code == 0, calm.out + calm.err
    assert "version 1:" in calm.out
    assert "stable" in calm.out
    _send(client, _shifted(rows), cli_home)
    drifted = run_cli(["monitor", "drift", NAME, "--out", str(tmp_path / "d")], capsys, monkeypatch)
    assert drifted.code == 3, drifted.out + drifted.err
    result = json.loads((tmp_path / "d" / "drift.json").read_text())
    (version,) = result["versions"]
    assert version["failed"] == ["age"]
    assert (tmp_path / "d" / "psi-v1.png").stat().st_size > 0
    assert "<h2>Version 1</h2>" in (tmp_path / "d" / "drift.html").read_text()
    missing = run_cli(["monitor", "drift", NAME, "--version", "9"], capsys, monkeypatch)
    assert missing.code == 1
    assert "has no version 9" in missing.err


def test_monitor_performance_joins_labels_and_sets_training_beside(
    cli_home: Settings,
    client_for: Callable[..., TestClient],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = client_for(cli_home, sync="off")
    ids = entity_ids(cli_home, 60)
    scores = {}
    for i in ids:
        answer = client.post(PREDICT, json={"id": i}, headers={"x-request-id": f"q-{i}"})
        scores[i] = answer.json()["prediction"]
    deadline = time.monotonic() + 10
    while _logged(cli_home) < len(ids) and time.monotonic() < deadline:
        time.sleep(0.05)
    median = sorted(scores.values())[len(ids) // 2]
    labels = tmp_path / "outcomes.csv"  # the riskier half defaulted: a perfect ranking
    labels.write_text(
        "request_id,status\n"
        + "".join(f"q-{i},{int(scores[i] >= median)}\n" for i in ids)
        + "q-never,1\n"
    )
    out = tmp_path / "perf"
    args = ["monitor", "performance", NAME, "--labels", str(labels), "--out", str(out)]
    found = run_cli(args, capsys, monkeypatch)
    assert found.code == 0, found.out + found.err
    result = json.loads((out / "performance.json").read_text())
    assert (result["labelled"], result["unmatched"]) == (60, 1)
    (version,) = result["scores"]
    assert version["version"] == "1"
    assert version["metrics"]["roc_auc"] == pytest.approx(1.0)
    assert "roc_auc" in result["trained"]["1"]
    assert (out / "calibration.png").stat().st_size > 0
