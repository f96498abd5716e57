"""The admin reload against a real ``tabship serve`` in its default mode (a sync worker
beside the server): the new champion answers within seconds, and a worker that cannot
sync is a 503 naming the cause."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tabship.registry.approval import approve
from tabship.registry.client import Registry
from tabship.serving.models.sync import repository
from tabship.settings import Settings
from tests.integration.conftest import NAME, PREDICT, entity_ids, free_port, serving

KEY = "reload-test-key-0123456789"
pytestmark = pytest.mark.slow


def _first_pass_done(settings: Settings, before: int, seconds: float = 60) -> None:
    """Wait for the worker's own first pass (it imports MLflow first)."""
    repo = repository(settings)
    deadline = time.monotonic() + seconds
    while int(repo.sync_status().get("generation", 0)) <= before:
        assert time.monotonic() < deadline, "the sync worker never finished a pass"
        time.sleep(0.1)


def test_reload_in_worker_mode_swaps_in_the_new_champion_within_seconds(home: Settings) -> None:
    entity = entity_ids(home, 1)[0]
    generation = int(repository(home).sync_status().get("generation", 0))
    with (
        serving(home, TABSHIP_API_KEY=KEY, TABSHIP_POLL_INTERVAL="30") as (url, _),
        httpx.Client(base_url=url) as http,
    ):
        _first_pass_done(home, generation)
        assert http.post(PREDICT, json={"id": entity}).json()["version"] == "1"
        approve(Registry(home), NAME, "2", by="ana", reason="reload test", override=True)
        started = time.monotonic()
        done = http.post("/v1/admin/reload", headers={"x-api-key": KEY}, timeout=30)
        assert done.status_code == 200, done.text
        assert time.monotonic() - started < 10
        assert done.json()["models"][NAME]["champion"] == "2"
        assert any(c["model"] == NAME and c["aliases"] for c in done.json()["changes"])
        assert http.post(PREDICT, json={"id": entity}).json()["version"] == "2"


def test_reload_with_an_unreachable_registry_is_a_503_naming_the_cause(home: Settings) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"  # an MLflow server that is down
    with (
        serving(home, TABSHIP_API_KEY=KEY, TABSHIP_TRACKING_URI=nobody) as (url, logs),
        httpx.Client(base_url=url) as http,
    ):
        started = time.monotonic()
        failed = http.post("/v1/admin/reload", headers={"x-api-key": KEY}, timeout=30)
        assert time.monotonic() - started < 10
        assert http.get("/healthz").status_code == 200
        # The last approved champion keeps serving.
        assert http.post(PREDICT, json={"id": entity_ids(home, 1)[0]}).status_code == 200
    assert failed.status_code == 503, failed.text
    error = failed.json()["error"]
    assert error["code"] == "sync_registry_unreachable"
    assert "registry" in error["message"]
    logged = [json.loads(line) for line in logs if line.startswith("{")]
    assert any(e.get("cause") == "registry_unreachable" for e in logged), logs
