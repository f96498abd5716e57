"""The prediction log: every answer recorded off the request path; a clean shutdown
flushes it, a killed server loses at most one flush interval."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from tabship.serving.app import create_app
from tabship.settings import Settings
from tests.integration.conftest import (
    FEATURES,
    NAME,
    PREDICT,
    entity_ids,
    free_port,
    wait_ready,
)


def _lines(settings: Settings) -> list[dict[str, object]]:
    files = sorted((settings.predictions_dir / NAME).glob("*.jsonl"))
    return [json.loads(line) for f in files for line in Path(f).read_text().splitlines()]


def test_every_answer_is_logged_with_its_request_id_and_inputs(home: Settings) -> None:
    ids = entity_ids(home, 5)
    with TestClient(create_app(home, sync="off")) as client:
        answers = [
            client.post(PREDICT, json={"id": i}, headers={"x-request-id": f"req-{i}"}) for i in ids
        ]
    logged = {e["request_id"]: e for e in _lines(home)}
    for i, answer in zip(ids, answers, strict=True):
        assert answer.headers["x-request-id"] == f"req-{i}"
        entry = logged[f"req-{i}"]
        assert entry["id"] == i
        assert entry["version"] == "1"
        assert entry["prediction"] == answer.json()["prediction"]
        assert set(entry["features"]) == set(FEATURES)  # type: ignore[arg-type]
        assert entry["latency_ms"] > 0


def test_a_killed_server_loses_at_most_one_flush_interval(home: Settings) -> None:
    port = free_port()
    env = {
        **os.environ,
        "TABSHIP_HOME": str(home.home),
        "TABSHIP_USECASES": str(home.usecases),
        "TABSHIP_TRACKING_URI": str(home.tracking_uri),
        "TABSHIP_PREDLOG_FLUSH_INTERVAL": "0.2",
    }
    args = [sys.executable, "-m", "tabship", "serve", "--port", str(port), "--sync", "off"]
    server = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(url, server)
        ids = entity_ids(home, 40)
        with httpx.Client(base_url=url) as http:
            for i in ids:
                assert http.post(PREDICT, json={"id": i}).status_code == 200
        time.sleep(0.6)  # a few flush intervals
        server.send_signal(signal.SIGKILL)
        server.wait(10)
    finally:
        if server.poll() is None:
            server.kill()
    assert sorted(e["id"] for e in _lines(home)) == sorted(ids)
