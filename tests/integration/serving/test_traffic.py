"""Traffic policies on the default route: shadow scores are logged, never returned;
canary splits entities by a stable hash, so an entity always meets the same version."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tabship.serving.app import create_app
from tabship.settings import Settings
from tests.integration.conftest import NAME, PREDICT, declare, entity_ids


def _log(settings: Settings) -> list[dict[str, Any]]:
    files = sorted((settings.predictions_dir / NAME).glob("*.jsonl"))
    return [json.loads(line) for f in files for line in Path(f).read_text().splitlines()]


def test_shadow_scores_are_logged_not_returned(home: Settings) -> None:
    declare(home.usecases, traffic={"mode": "shadow", "alias": "challenger", "share": 1.0})
    ids = entity_ids(home, 20)
    with TestClient(create_app(home, sync="off")) as client:
        answers = [client.post(PREDICT, json={"id": i}) for i in ids]
        pinned = client.post(f"/v1/models/{NAME}/versions/1/predict", json={"id": ids[0]})
    assert {(a.json()["version"], a.json()["alias"]) for a in answers} == {("1", "champion")}
    entries = _log(home)  # the app has shut down: the log is flushed
    shadow = [e for e in entries if e["shadow"]]
    served = [e for e in entries if not e["shadow"]]
    assert len(served) == len(ids) + 1
    assert {e["version"] for e in shadow} == {"2"}
    # every default-route request was shadowed once, a pinned one never
    assert sorted(e["request_id"] for e in shadow) == sorted(
        a.headers["x-request-id"] for a in answers
    )
    assert pinned.headers["x-request-id"] not in {e["request_id"] for e in shadow}


def test_canary_is_a_sticky_split_by_entity(home: Settings) -> None:
    declare(home.usecases, traffic={"mode": "canary", "alias": "challenger", "share": 0.5})
    ids = entity_ids(home, 60)
    with TestClient(create_app(home, sync="off")) as client:
        first = {i: client.post(PREDICT, json={"id": i}).json() for i in ids}
        again = {i: client.post(PREDICT, json={"id": i}).json()["version"] for i in ids}
        batch = client.post(PREDICT, json={"instances": [{"id": i} for i in ids]}).json()
        pinned = client.post(f"/v1/models/{NAME}/versions/1/predict", json={"id": ids[0]}).json()
    assert {i: a["version"] for i, a in first.items()} == again
    split = Counter(a["alias"] for a in first.values())
    assert set(split) == {"champion", "challenger"}
    assert 15 <= split["challenger"] <= 45
    assert [p["version"] for p in batch["predictions"]] == [again[i] for i in ids]
    assert pinned["version"] == "1"
