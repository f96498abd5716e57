"""Zero-downtime updates: the server follows the registry, swaps atomically under load,
refuses a version that fails its check, and admin reload needs the key."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from tabship.registry.approval import approve
from tabship.registry.client import Registry
from tabship.serving.app import create_app
from tabship.serving.models.sync import repository
from tabship.settings import Settings
from tests.integration.conftest import NAME, PREDICT, entity_ids, publish, running

KEY = "test-admin-key-6f1c2b9d"


@pytest.mark.slow
def test_champion_moves_under_concurrent_requests_without_a_failed_request(home: Settings) -> None:
    settings = home.model_copy(update={"poll_interval": 0.3})
    entity = entity_ids(settings, 1)[0]
    answers: list[list[tuple[int, str | None]]] = [[] for _ in range(4)]
    stop = threading.Event()

    def hammer(out: list[tuple[int, str | None]], url: str) -> None:
        with httpx.Client(base_url=url, timeout=10) as http:
            while not stop.is_set():
                got = http.post(PREDICT, json={"id": entity})
                out.append((got.status_code, got.json().get("version")))

    with running(create_app(settings, sync="worker")) as url:
        threads = [threading.Thread(target=hammer, args=(out, url)) for out in answers]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        approve(Registry(settings), NAME, "2", by="ana", reason="swap test", override=True)
        deadline = time.monotonic() + 90  # the sync worker imports MLflow first
        while not any(v == "2" for out in answers for _, v in out[-5:]):
            assert time.monotonic() < deadline, "the new champion never answered"
            time.sleep(0.1)
        time.sleep(0.5)
        stop.set()
        for thread in threads:
            thread.join()
    flat = [a for out in answers for a in out]
    assert len(flat) >= 300
    assert {status for status, _ in flat} == {200}
    assert {version for _, version in flat} == {"1", "2"}
    for out in answers:  # each client's requests are sequential: once new, never old again
        versions = [v for _, v in out]
        assert "1" not in versions[versions.index("2") :]


def test_admin_reload_needs_the_key_and_applies_alias_changes(
    home: Settings, client_for: Callable[..., TestClient]
) -> None:
    closed = client_for(home, sync="off")
    assert closed.post("/v1/admin/reload").status_code == 401

    client = client_for(home.model_copy(update={"api_key": SecretStr(KEY)}), sync="inline")
    assert client.post("/v1/admin/reload").status_code == 401
    assert client.post("/v1/admin/reload", headers={"x-api-key": "wrong"}).status_code == 401
    entity = entity_ids(home, 1)[0]
    assert client.post(PREDICT, json={"id": entity}).json()["version"] == "1"

    approve(Registry(home), NAME, "2", by="ana", reason="reload test", override=True)
    assert client.post(PREDICT, json={"id": entity}).json()["version"] == "1"  # not yet synced
    done = client.post("/v1/admin/reload", headers={"x-api-key": KEY})
    assert done.status_code == 200, done.text
    assert done.json()["models"][NAME]["champion"] == "2"
    assert client.post(PREDICT, json={"id": entity}).json()["version"] == "2"


def test_a_version_failing_its_check_is_not_swapped_in(
    home: Settings, client_for: Callable[..., TestClient]
) -> None:
    meta_path = repository(home).version_dir(NAME, "2") / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["check"]["outputs"] = [v + 0.5 for v in meta["check"]["outputs"]]  # a corrupt bundle
    meta_path.write_text(json.dumps(meta))
    client = client_for(home.model_copy(update={"api_key": SecretStr(KEY)}), sync="off")
    entity = entity_ids(home, 1)[0]
    assert (
        client.post(
            f"/v1/models/{NAME}/aliases/challenger/predict", json={"id": entity}
        ).status_code
        == 404
    )
    approve(Registry(home), NAME, "2", by="ana", reason="bad bundle", override=True)
    publish(home)
    assert client.post("/v1/admin/reload", headers={"x-api-key": KEY}).status_code == 200

    answer = client.post(PREDICT, json={"id": entity})
    assert answer.status_code == 200
    assert (answer.json()["version"], answer.json()["alias"]) == ("1", "champion")
    model = client.get(f"/v1/models/{NAME}").json()
    assert "check failed" in model["failures"]["2"]
    assert model["registry_aliases"]["champion"] == "2"
    assert model["aliases"]["champion"] == "1"
    assert (
        'tabship_model_swaps_total{model="credit_risk",outcome="refused"} 2.0'
        in client.get("/metrics").text
    )


def test_no_champion_means_not_ready_and_503(
    home: Settings, client_for: Callable[..., TestClient]
) -> None:
    Registry(home).client.delete_registered_model_alias(NAME, "champion")
    publish(home)
    client = client_for(home, sync="off")
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert "no champion" in ready.json()["error"]["message"]
    got = client.post(PREDICT, json={"id": entity_ids(home, 1)[0]})
    assert got.status_code == 503
    assert "no approved champion" in got.json()["error"]["message"]
    assert (
        client.post(
            f"/v1/models/{NAME}/versions/2/predict", json={"id": entity_ids(home, 1)[0]}
        ).status_code
        == 200
    )
