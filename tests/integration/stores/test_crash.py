"""A process killed with SIGKILL mid-write leaves the previous version readable and intact."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest

from tabship.data.generate import generate
from tabship.features.build import build_features
from tabship.features.engine import DuckDBEngine
from tabship.settings import Settings
from tabship.stores.materialize import materialize
from tabship.stores.offline import FEATURES_TABLE, QUARANTINE_TABLE, OfflineStore, stage_arrow
from tabship.stores.online import open_online_store
from tabship.usecase import UseCase

pytestmark = pytest.mark.slow


def _env(settings: Settings, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "TABSHIP_HOME": str(settings.home),
        "TABSHIP_USECASES": str(settings.usecases),
        **extra,
    }


def _kill_when(
    proc: subprocess.Popen[bytes], ready: Callable[[], bool], timeout: float = 120
) -> bool:
    """SIGKILL ``proc`` as soon as ``ready()``; False if it finished first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if ready():
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.005)
    proc.kill()
    pytest.fail("the command neither progressed nor finished in time")


@pytest.fixture(scope="module")
def big_loans(tmp_path_factory: pytest.TempPathFactory, credit_risk: UseCase) -> Path:
    return generate(credit_risk, 800_000, tmp_path_factory.mktemp("big"), seed=3)[0]


def _tables(offline: OfflineStore) -> dict[str, Path]:
    return {t: offline.path("credit_risk", t) for t in (FEATURES_TABLE, QUARANTINE_TABLE)}


def _unreferenced(root: Path) -> set[str]:
    """Data files under a table's folder that no commit of its log added."""
    added = {
        json.loads(line)["add"]["path"]
        for commit in (root / "_delta_log").glob("*.json")
        for line in commit.read_text().splitlines()
        if '"add"' in line
    }
    files = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    return {f for f in files if not f.startswith("_delta_log/") and f not in added}


def test_a_killed_build_leaves_no_trace_after_the_next_one(
    credit_risk: UseCase,
    loans: Path,
    big_loans: Path,
    settings: Settings,
    duckdb_engine: DuckDBEngine,
) -> None:
    offline = OfflineStore(settings.offline_dir)
    before = build_features(
        credit_risk, [loans], duckdb_engine, offline, settings.reports_dir
    ).report
    tables = _tables(offline)
    histories = {t: offline.history("credit_risk", t) for t in tables}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tabship",
            "features",
            "build",
            "credit_risk",
            "--data",
            str(big_loans),
        ],
        env=_env(settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    committed = set(tables[FEATURES_TABLE].glob("build-*/*.parquet"))

    def writing_features() -> bool:
        return bool(set(tables[FEATURES_TABLE].glob("build-*/*.parquet")) - committed)

    # Kill while the features are being written: the quarantine is staged, not committed.
    assert _kill_when(proc, writing_features), "build finished before the kill"
    assert {t: offline.history("credit_risk", t) for t in tables} == histories
    assert _unreferenced(tables[FEATURES_TABLE])  # the killed build's files are there
    delta = offline.open("credit_risk", FEATURES_TABLE)
    assert delta.version() == before.feature_version
    assert delta.to_pyarrow_dataset().count_rows() == before.rows_out

    after = build_features(
        credit_risk, [loans], duckdb_engine, offline, settings.reports_dir
    ).report
    assert after.feature_version == before.feature_version + 1
    assert after.quarantine_version == before.quarantine_version + 1
    for table, root in tables.items():
        assert _unreferenced(root) == set(), table
        assert not list(root.glob("*.lock")), table
        history = offline.history("credit_risk", table)
        assert history[1:] == histories[table]  # only the new version was added
    lineage = offline.lineage("credit_risk", FEATURES_TABLE)
    assert lineage["quarantine_version"] == str(after.quarantine_version)


def test_a_failing_writer_removes_its_files_and_a_live_one_is_not_swept(
    settings: Settings,
) -> None:
    offline = OfflineStore(settings.offline_dir)
    table = pa.table({"a": [1, 2]})
    assert offline.write("demo", "t", table, {}) == 0
    root = offline.path("demo", "t")
    staged: list[Path] = []

    def failing_writer() -> None:
        with offline.staging("demo", "t") as folder:
            staged.append(folder)
            stage_arrow(table, folder)
            raise RuntimeError("the engine failed")

    with pytest.raises(RuntimeError):
        failing_writer()
    assert not staged[0].exists()
    with offline.staging("demo", "t") as live:
        stage_arrow(table, live)
        assert offline.write("demo", "t", table, {}) == 1  # its sweep must spare ``live``
        assert live.is_dir()
    assert not live.with_name(live.name + ".lock").exists()
    assert offline.sweep("demo", "t") == [live]  # never committed, writer gone
    assert _unreferenced(root) == set()
    assert offline.open("demo", "t").to_pyarrow_dataset().count_rows() == 2


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def test_killed_materialization_keeps_the_live_snapshot(
    backend: str,
    credit_risk: UseCase,
    loans: Path,
    big_loans: Path,
    settings: Settings,
    duckdb_engine: DuckDBEngine,
    request: pytest.FixtureRequest,
) -> None:
    extra = {"TABSHIP_ONLINE": backend}
    if backend == "redis":
        extra["TABSHIP_REDIS_URL"] = request.getfixturevalue("redis_url")
    live_settings = settings.model_copy(
        update={"online": backend, "redis_url": extra.get("TABSHIP_REDIS_URL", settings.redis_url)}
    )
    offline = OfflineStore(settings.offline_dir)
    build_features(credit_risk, [loans], duckdb_engine, offline, settings.reports_dir)
    online = open_online_store(live_settings)
    if backend == "redis":  # another test run may have left this use case in the shared server
        for key in online.client.scan_iter(match="tabship:credit_risk:*"):  # type: ignore[attr-defined]
            online.client.delete(key)  # type: ignore[attr-defined]
    first = materialize(credit_risk, offline, online, settings)
    probe = online.keys("credit_risk", 5)
    expected = online.get_many("credit_risk", probe)
    build_features(credit_risk, [big_loans], duckdb_engine, offline, settings.reports_dir)
    keys_before = int(online.client.dbsize()) if backend == "redis" else 0  # type: ignore[attr-defined]

    def writing() -> bool:
        if backend == "sqlite":
            wal = settings.online_sqlite_path.with_name(settings.online_sqlite_path.name + "-wal")
            return wal.exists() and wal.stat().st_size > 4_000_000
        # Any new key means the new snapshot is being written (DBSIZE is O(1); a SCAN of a
        # shared server could let the whole write finish before the kill).
        return int(online.client.dbsize()) > keys_before  # type: ignore[attr-defined]

    proc = subprocess.Popen(
        [sys.executable, "-m", "tabship", "features", "materialize", "credit_risk"],
        env=_env(settings, **extra),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert _kill_when(proc, writing), "materialisation finished before the kill"
    online.close()
    online = open_online_store(live_settings)
    snap = online.snapshot("credit_risk")
    assert snap is not None
    assert (snap.version, snap.rows) == (first.version, first.rows)
    assert online.get_many("credit_risk", probe) == expected
    second = materialize(credit_risk, offline, online, settings)
    assert second.version == "v1"
    assert not second.skipped
    online.close()
