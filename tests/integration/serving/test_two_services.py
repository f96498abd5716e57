"""The same API as two services: the prediction service reads features over HTTP."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tabship.serving.app import create_app
from tabship.settings import Settings
from tabship.stores.online import open_online_store
from tests.integration.conftest import NAME, running


def test_prediction_service_reads_features_from_the_feature_service(served_home: Settings) -> None:
    store = open_online_store(served_home)
    key = store.keys(NAME, 1)[0]
    store.close()
    with TestClient(create_app(served_home, sync="off")) as together:
        expected = together.post(f"/v1/models/{NAME}/predict", json={"id": int(key)}).json()

    with running(create_app(served_home, role="features", sync="off")) as features_url:
        predictions = create_app(
            served_home, role="predictions", features_url=features_url, sync="off"
        )
        with TestClient(predictions) as client:
            got = client.post(f"/v1/models/{NAME}/predict", json={"id": int(key)})
            assert got.status_code == 200
            assert got.json()["prediction"] == expected["prediction"]
            assert got.json()["feature_table_version"] == "v0"
            unknown = client.post(f"/v1/models/{NAME}/predict", json={"id": 999999999})
            assert unknown.status_code == 404
            assert client.get(f"/v1/features/{NAME}/{key}").status_code == 404  # not this service's
        with TestClient(create_app(served_home, role="features", sync="off")) as features:
            assert features.get(f"/v1/features/{NAME}/{key}").status_code == 200
            assert features.post(f"/v1/models/{NAME}/predict", json={"id": 1}).status_code == 404
            assert features.get("/readyz").status_code == 200
