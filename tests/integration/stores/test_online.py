"""Both online stores behind one interface: snapshots, reads, atomic swaps."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tabship.errors import StoreError
from tabship.features.build import build_features
from tabship.features.engine import DuckDBEngine
from tabship.settings import Settings
from tabship.stores.materialize import materialize
from tabship.stores.offline import OfflineStore
from tabship.stores.online.base import OnlineStore
from tabship.stores.online.redis import RedisOnlineStore
from tabship.stores.online.sqlite import SQLiteOnlineStore
from tabship.usecase import UseCase


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OnlineStore]:
    if request.param == "sqlite":
        s: OnlineStore = SQLiteOnlineStore(tmp_path / "online.sqlite")
    else:
        url = request.getfixturevalue("redis_url")
        s = RedisOnlineStore(url, prefix=f"test-{uuid.uuid4().hex[:8]}")
    yield s
    if isinstance(s, RedisOnlineStore):
        keys = list(s.client.scan_iter(match=f"{s.prefix}:*"))
        if keys:
            s.client.delete(*keys)
    s.close()


def _rows(version: str, n: int) -> list[list[tuple[str, str]]]:
    rows = [(str(i), json.dumps({"id": i, "v": version})) for i in range(n)]
    return [rows[i : i + 1000] for i in range(0, n, 1000)]


def test_written_rows_are_read_back(store: OnlineStore) -> None:
    assert store.snapshot("uc") is None
    assert store.get("uc", "1") is None
    assert store.write_snapshot("uc", "v0", _rows("v0", 2500)) == 2500
    assert store.get("uc", "7") == {"id": 7, "v": "v0"}
    assert store.get("uc", "999999") is None
    many = store.get_many("uc", ["1", "nope", "2"])
    assert many == {"1": {"id": 1, "v": "v0"}, "nope": None, "2": {"id": 2, "v": "v0"}}
    snap = store.snapshot("uc")
    assert snap is not None
    assert (snap.version, snap.rows) == ("v0", 2500)
    assert len(store.keys("uc", 3)) == 3


def test_a_new_snapshot_replaces_the_old_one_entirely(store: OnlineStore) -> None:
    store.write_snapshot("uc", "v0", _rows("v0", 100))
    store.write_snapshot("uc", "v1", _rows("v1", 50))
    assert store.get("uc", "10") == {"id": 10, "v": "v1"}
    assert store.get("uc", "60") is None
    assert store.snapshot("uc").version == "v1"  # type: ignore[union-attr]


def test_use_cases_do_not_see_each_other(store: OnlineStore) -> None:
    store.write_snapshot("a", "v0", _rows("a", 10))
    assert store.get("b", "1") is None


def test_a_failed_write_leaves_the_live_snapshot_untouched(store: OnlineStore) -> None:
    store.write_snapshot("uc", "v0", _rows("v0", 100))

    def broken() -> Iterator[list[tuple[str, str]]]:
        yield [(str(i), json.dumps({"id": i, "v": "v1"})) for i in range(100)]
        raise RuntimeError("source died")

    with pytest.raises(RuntimeError):
        store.write_snapshot("uc", "v1", broken())
    assert store.get("uc", "5") == {"id": 5, "v": "v0"}
    assert store.snapshot("uc").version == "v0"  # type: ignore[union-attr]


def test_an_update_changes_only_its_rows_and_needs_its_base_live(store: OnlineStore) -> None:
    store.write_snapshot("uc", "v0", _rows("v0", 100))
    changed = [[(str(i), json.dumps({"id": i, "v": "v1"})) for i in (5, 150)]]
    with pytest.raises(StoreError, match="on snapshot v9 but v0 is live"):
        store.update_snapshot("uc", "v9", "v10", changed)
    assert store.update_snapshot("uc", "v0", "v1", changed) == 101
    assert store.get_many("uc", ["4", "5", "150"]) == {
        "4": {"id": 4, "v": "v0"},
        "5": {"id": 5, "v": "v1"},
        "150": {"id": 150, "v": "v1"},
    }
    snap = store.snapshot("uc")
    assert snap is not None
    assert (snap.version, snap.rows) == ("v1", 101)
    assert store.lookup("uc", ["5"]).version == "v1"

    def broken() -> Iterator[list[tuple[str, str]]]:
        yield [("4", json.dumps({"id": 4, "v": "v2"}))]
        raise RuntimeError("source died")

    with pytest.raises(RuntimeError):
        store.update_snapshot("uc", "v1", "v2", broken())
    assert store.get("uc", "4") == {"id": 4, "v": "v0"}
    assert store.snapshot("uc").version == "v1"  # type: ignore[union-attr]


def test_readers_never_see_a_mix_of_two_snapshots(store: OnlineStore) -> None:
    n = 3000
    store.write_snapshot("uc", "v0", _rows("v0", n))
    keys = [str(i) for i in range(0, n, 37)]
    seen: list[set[str]] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            rows = store.get_many("uc", keys)
            seen.append({r["v"] for r in rows.values() if r is not None})

    reader = threading.Thread(target=read)
    reader.start()
    for version in ("v1", "v2", "v3"):
        store.write_snapshot("uc", version, _rows(version, n))
    stop.set()
    reader.join()
    assert seen
    assert all(len(versions) == 1 for versions in seen)
    assert store.get("uc", "0") == {"id": 0, "v": "v3"}


def test_materialize_puts_each_users_latest_loan_live_and_is_idempotent(
    credit_risk: UseCase,
    loans: Path,
    settings: Settings,
    duckdb_engine: DuckDBEngine,
    store: OnlineStore,
) -> None:
    offline = OfflineStore(settings.offline_dir)
    build_features(credit_risk, [loans], duckdb_engine, offline, settings.reports_dir)
    first = materialize(credit_risk, offline, store, settings)
    table = offline.dataset("credit_risk", "features").to_table().to_pylist()
    latest: dict[int, dict[str, object]] = {}
    for row in table:
        best = latest.get(row["id"])
        if best is None or (row["loan_date"], row["loan_id"]) > (
            best["loan_date"],
            best["loan_id"],
        ):
            latest[row["id"]] = row
    assert first.rows == len(latest)
    for user_id in list(latest)[:50]:
        got = store.get("credit_risk", str(user_id))
        want = latest[user_id]
        assert got is not None
        assert got["loan_id"] == want["loan_id"]
        assert got["loan_date"] == want["loan_date"].isoformat()  # type: ignore[attr-defined]
        for feature in credit_risk.feature_view.features:
            assert got[feature] == want[feature]
        assert "status" not in got
    again = materialize(credit_risk, offline, store, settings)
    assert again.skipped
    assert again.rows == first.rows
