"""The scale-out configuration, on real servers: MLflow's tracking store and model
registry on PostgreSQL, the online store on Redis. Train, approve, sync and serve."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest
from fastapi.testclient import TestClient

from tabship.registry.approval import approve
from tabship.registry.client import Registry
from tabship.serving.app import create_app
from tabship.serving.models.sync import sync_and_mark
from tabship.settings import Settings
from tabship.stores.materialize import materialize
from tabship.stores.offline import OfflineStore
from tabship.stores.online import open_online_store
from tabship.training.train import train
from tabship.usecase import UseCase

pytestmark = pytest.mark.slow


def test_train_approve_and_serve_with_the_registry_on_postgresql_and_features_in_redis(
    small_usecase: Callable[..., UseCase],
    built: Callable[[UseCase], int],
    train_settings: Settings,
    postgres_url: str,
    redis_url: str,
) -> None:
    settings = train_settings.model_copy(
        update={"tracking_uri": postgres_url, "online": "redis", "redis_url": redis_url}
    )
    usecase = small_usecase()
    built(usecase)
    online = open_online_store(settings)
    materialize(usecase, OfflineStore(settings.offline_dir), online, settings)
    user = online.keys(usecase.name, 1)[0]
    online.close()

    result = train(usecase, settings)
    approve(Registry(settings), usecase.name, result.version, by="ana", reason="scale-out test")
    with psycopg.connect(postgres_url) as db, db.cursor() as cursor:
        cursor.execute(
            "SELECT value FROM model_version_tags WHERE name = %s AND version = %s AND key = %s",
            (usecase.name, int(result.version), "approval.status"),
        )
        assert cursor.fetchone() == ("approved",)  # the registry lives in PostgreSQL
        cursor.execute(
            "SELECT alias FROM registered_model_aliases WHERE name = %s", (usecase.name,)
        )
        assert {row[0] for row in cursor.fetchall()} == {"champion", "challenger"}

    sync_and_mark(settings)
    with TestClient(create_app(settings, sync="off")) as client:
        answer = client.post(f"/v1/models/{usecase.name}/predict", json={"id": int(user)})
        assert answer.status_code == 200, answer.text
        assert (answer.json()["version"], answer.json()["alias"]) == (result.version, "champion")
        features = client.get(f"/v1/features/{usecase.name}/{user}")
        assert features.status_code == 200
