"""Every route and every error a caller can meet, on the session's served home."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from tabship.settings import Settings
from tabship.stores.online import open_online_store
from tests.integration.conftest import FEATURES, NAME, PREDICT, free_port


@pytest.fixture(scope="module")
def entities(served_home: Settings) -> dict[str, dict[str, Any]]:
    store = open_online_store(served_home)
    keys = store.keys(NAME, 30)
    rows = store.get_many(NAME, keys)
    store.close()
    return {k: v for k, v in rows.items() if v is not None}


def _native(settings: Settings, version: str, rows: list[dict[str, Any]]) -> np.ndarray:
    mlflow.set_tracking_uri(str(settings.tracking_uri))
    model = mlflow.sklearn.load_model(f"models:/{NAME}/{version}")
    frame = pd.DataFrame([[r[f] for f in FEATURES] for r in rows], columns=FEATURES, dtype=float)
    return np.asarray(model.predict_proba(frame))[:, 1]


def test_feature_api_returns_latest_features_event_time_and_version(
    client: TestClient, entities: dict[str, dict[str, Any]]
) -> None:
    key, row = next(iter(entities.items()))
    got = client.get(f"/v1/features/{NAME}/{key}")
    assert got.status_code == 200
    body = got.json()
    assert body["features"] == {f: row[f] for f in FEATURES}
    assert body["event_time"] == row["loan_date"]
    assert body["feature_table_version"] == "v0"
    assert got.headers["x-request-id"]

    batch = client.post(f"/v1/features/{NAME}", json={"ids": [int(key), "nobody"]})
    assert batch.status_code == 200
    assert [r["id"] for r in batch.json()["rows"]] == [key]
    assert batch.json()["missing"] == ["nobody"]


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        (f"/v1/features/{NAME}/nobody", 404, "entity_id"),
        ("/v1/features/no_such_case/1", 404, "use_case"),
    ],
)
def test_feature_api_unknowns_are_404(
    client: TestClient, path: str, status: int, field: str
) -> None:
    got = client.get(path)
    assert got.status_code == status
    assert got.json()["error"]["field"] == field


def test_prediction_by_id_is_the_champion_in_onnx_matching_the_native_model(
    client: TestClient, served_home: Settings, entities: dict[str, dict[str, Any]]
) -> None:
    keys = list(entities)[:10]
    answers = [client.post(PREDICT, json={"id": int(k)}).json() for k in keys]
    assert {(a["version"], a["alias"], a["runtime"]) for a in answers} == {
        ("1", "champion", "onnx")
    }
    native = _native(served_home, "1", [entities[k] for k in keys])
    assert np.max(np.abs(np.array([a["prediction"] for a in answers]) - native)) <= 1e-5
    for answer in answers:
        assert answer["decision"] == int(answer["prediction"] >= answer["threshold"])
        assert answer["feature_table_version"] == "v0"


def test_payload_and_batch_give_the_same_scores_as_lookup(
    client: TestClient, entities: dict[str, dict[str, Any]]
) -> None:
    key, row = next(iter(entities.items()))
    by_id = client.post(PREDICT, json={"id": int(key)}).json()
    payload = {f: row[f] for f in FEATURES}
    by_payload = client.post(PREDICT, json={**payload, "id": int(key)}).json()
    assert by_payload["prediction"] == pytest.approx(by_id["prediction"], abs=1e-7)
    assert by_payload["id"] == int(key)
    batch = client.post(PREDICT, json={"instances": [{"id": int(key)}, payload]}).json()
    scores = [p["prediction"] for p in batch["predictions"]]
    assert scores == pytest.approx([by_id["prediction"]] * 2, abs=1e-7)


def test_a_batch_answers_each_item_and_names_the_unknown_ids(
    client: TestClient, entities: dict[str, dict[str, Any]]
) -> None:
    key = int(next(iter(entities)))
    single = client.post(PREDICT, json={"id": key}).json()
    got = client.post(PREDICT, json={"instances": [{"id": 999999999}, {"id": key}, {"id": "x"}]})
    assert got.status_code == 200, got.text
    first, second, third = got.json()["predictions"]
    assert first == {
        "id": 999999999,
        "error": {
            "code": "unknown_entity",
            "message": "instances.0.id: id 999999999 has no features in the online store",
            "field": "instances.0.id",
        },
    }
    assert second["prediction"] == pytest.approx(single["prediction"], abs=1e-7)
    assert third["error"]["field"] == "instances.2.id"
    assert client.post(PREDICT, json={"id": 999999999}).status_code == 404  # one id: 404


def test_missing_feature_values_are_scored_as_missing(client: TestClient) -> None:
    payload = dict.fromkeys(FEATURES)
    got = client.post(PREDICT, json=payload)
    assert got.status_code == 200
    assert 0.0 <= got.json()["prediction"] <= 1.0


def test_any_loaded_version_answers_by_number_or_alias(
    client: TestClient, served_home: Settings, entities: dict[str, dict[str, Any]]
) -> None:
    key = next(iter(entities))
    v2 = client.post(f"/v1/models/{NAME}/versions/2/predict", json={"id": int(key)}).json()
    assert (v2["version"], v2["alias"]) == ("2", "challenger")
    assert v2["prediction"] == pytest.approx(
        _native(served_home, "2", [entities[key]])[0], abs=1e-5
    )
    via_alias = client.post(f"/v1/models/{NAME}/aliases/challenger/predict", json={"id": int(key)})
    assert via_alias.json()["version"] == "2"
    champion = client.post(f"/v1/models/{NAME}/aliases/champion/predict", json={"id": int(key)})
    assert champion.json()["version"] == "1"


def test_models_routes_describe_versions_aliases_policy_and_records(client: TestClient) -> None:
    listing = client.get("/v1/models").json()["models"]
    assert listing == [
        {
            "name": NAME,
            "aliases": {"champion": "1", "challenger": "2"},
            "versions": ["1", "2"],
            "traffic": "none",
        }
    ]
    model = client.get(f"/v1/models/{NAME}").json()
    versions = {v["version"]: v for v in model["versions"]}
    assert versions["1"]["approval"]["status"] == "approved"
    assert versions["1"]["approval"]["by"] == "risk-officer"
    assert versions["2"]["approval"]["status"] == "pending"
    assert versions["1"]["features"] == FEATURES
    assert versions["1"]["threshold"] > 0
    assert "roc_auc" in versions["1"]["metrics"]
    assert versions["1"]["onnx"]["max_abs_diff"] <= 1e-5
    assert model["traffic"]["mode"] == "none"


def test_hidden_input_values_never_appear_in_errors(
    served_home: Settings, client_for: Callable[..., TestClient]
) -> None:
    secret = "4111-1111-1111-1111"
    shown = client_for(served_home, sync="off").post(
        PREDICT, json={**dict.fromkeys(FEATURES, 1), "age": secret}
    )
    assert secret in shown.text
    hidden = client_for(served_home.model_copy(update={"hide_input_values": True}), sync="off")
    for body in ({**dict.fromkeys(FEATURES, 1), "age": secret}, {"id": secret}):
        got = hidden.post(PREDICT, json=body)
        assert got.status_code in {404, 422}
        assert secret not in got.text
    assert secret not in hidden.get(f"/v1/features/{NAME}/{secret}").text


def test_health_readiness_and_metrics(
    client: TestClient, entities: dict[str, dict[str, Any]]
) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["models"][NAME]["champion"] == "1"
    client.post(PREDICT, json={"id": int(next(iter(entities)))})
    client.post(PREDICT, json={"id": 999999999})
    text = client.get("/metrics").text
    assert f'tabship_predictions_total{{alias="champion",model="{NAME}",version="1"}}' in text
    assert f'tabship_prediction_errors_total{{code="unknown_entity",model="{NAME}"}}' in text
    assert 'route="/v1/models/{name}/predict",status="404"' in text
    assert "tabship_prediction_duration_seconds_bucket" in text


def test_openapi_documents_every_route(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for route in (
        PREDICT,
        f"/v1/features/{NAME}/{{entity_id}}",
        "/v1/admin/reload",
        "/readyz",
    ):
        assert route in paths
    params = paths[f"/v1/models/{NAME}/versions/{{version}}/predict"]["post"]["parameters"]
    assert [p["name"] for p in params] == ["version"]


def test_docs_pages_load_their_assets_from_the_service_not_a_cdn(client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        html = client.get(page)
        assert html.status_code == 200
        sources = re.findall(r'(?:src|href)="([^"]+)"', html.text)
        assert sources, page
        for source in sources:
            assert source.startswith("/"), (page, source)  # nothing from another host
            assert client.get(source).status_code == 200, source


def test_an_unreachable_online_store_is_a_503_and_payloads_still_answer(
    served_home: Settings, client_for: Callable[..., TestClient]
) -> None:
    dead = served_home.model_copy(
        update={"online": "redis", "redis_url": f"redis://127.0.0.1:{free_port()}/0"}
    )
    client = client_for(dead, sync="off")
    refused = client.post(PREDICT, json={"id": 5008804})
    assert refused.status_code == 503, refused.text
    assert refused.json()["error"]["code"] == "feature_store_unavailable"
    payload = dict.fromkeys(FEATURES, 1.0)
    assert client.post(PREDICT, json=payload).status_code == 200
