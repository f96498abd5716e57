"""Access control a bank can use: keys with scopes, routes closed to anonymous callers by
configuration, admin never open."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from tabship.settings import ApiKey, Settings
from tests.integration.conftest import NAME, PREDICT, entity_ids

ADMIN = "admin-key-5b0e6f1d9c3a7e24"
PREDICTOR = "predict-key-8d2f4a6c1e9b3075"
OFFICER = "officer-key-3c7a9e1f5d2b8064"


@pytest.fixture(params=[True, False], ids=["fast-path", "fastapi-routes"])
def closed(
    request: pytest.FixtureRequest, served_home: Settings, client_for: Callable[..., TestClient]
) -> TestClient:
    """Every route but health and docs closed to callers without a key."""
    settings = served_home.model_copy(
        update={
            "fast_path": request.param,
            "open_scopes": [],
            "api_key": SecretStr(ADMIN),
            "api_keys": [
                ApiKey(name="scoring", key=PREDICTOR, scopes=("predict",)),
                ApiKey(name="officer", key=OFFICER, scopes=("features", "predict", "models")),
            ],
        }
    )
    return client_for(settings, sync="off")


def _routes(entity: int) -> list[tuple[str, str, dict[str, object] | None, str]]:
    return [
        ("get", f"/v1/features/{NAME}/{entity}", None, "features"),
        ("post", f"/v1/features/{NAME}", {"ids": [entity]}, "features"),
        ("post", PREDICT, {"id": entity}, "predict"),
        ("post", f"/v1/models/{NAME}/versions/1/predict", {"id": entity}, "predict"),
        ("get", "/v1/models", None, "models"),
        ("get", f"/v1/models/{NAME}", None, "models"),
        ("post", "/v1/admin/reload", None, "admin"),
    ]


def test_anonymous_callers_get_401_on_closed_routes(
    closed: TestClient, served_home: Settings
) -> None:
    for method, path, body, _ in _routes(entity_ids(served_home, 1)[0]):
        got = closed.request(method, path, json=body)
        assert got.status_code == 401, (path, got.text)
        assert got.json()["error"]["code"] == "unauthorized"
        assert got.json()["error"]["field"] == "X-API-Key"
    assert closed.get("/healthz").status_code == 200
    assert closed.get("/openapi.json").status_code == 200


def test_each_key_reaches_its_scopes_only(closed: TestClient, served_home: Settings) -> None:
    allowed = {PREDICTOR: {"predict"}, OFFICER: {"features", "predict", "models"}}
    for key, scopes in allowed.items():
        for method, path, body, scope in _routes(entity_ids(served_home, 1)[0]):
            if scope == "admin":
                continue  # a reload syncs; the admin key is tested below
            got = closed.request(method, path, json=body, headers={"x-api-key": key})
            expected = 200 if scope in scopes else 403
            assert got.status_code == expected, (key, path, got.text)
            if expected == 403:
                assert got.json()["error"]["code"] == "forbidden"


def test_a_predict_key_cannot_reload_and_a_wrong_key_is_401(closed: TestClient) -> None:
    refused = closed.post("/v1/admin/reload", headers={"x-api-key": PREDICTOR})
    assert refused.status_code == 403
    assert "admin" in refused.json()["error"]["message"]
    assert closed.post(PREDICT, json={"id": 1}, headers={"x-api-key": "x" * 30}).status_code == 401
    assert closed.post("/v1/admin/reload", headers={"x-api-key": ADMIN}).status_code == 200


def test_by_default_reading_is_open_and_admin_closed(
    served_home: Settings, client_for: Callable[..., TestClient]
) -> None:
    client = client_for(served_home, sync="off")
    entity = entity_ids(served_home, 1)[0]
    assert client.get(f"/v1/features/{NAME}/{entity}").status_code == 200
    assert client.post(PREDICT, json={"id": entity}).status_code == 200
    assert client.post("/v1/admin/reload").status_code == 401
