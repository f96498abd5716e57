"""Copy the latest feature row per entity from the offline table to the online store.

Runs on embedded DuckDB whatever engine built the table: one aggregation picks each
entity's latest row (by event time, then row key) and serialises it to JSON in C++, so
Python only moves finished strings into the store.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from tabship.errors import StoreError
from tabship.settings import Settings
from tabship.stores.offline import FEATURES_TABLE, OfflineStore
from tabship.stores.online.base import OnlineStore, Snapshot
from tabship.usecase import UseCase

CHUNK_ROWS = 50_000


@dataclass(frozen=True)
class MaterializeResult:
    """What a materialisation made live: the snapshot's version, its rows, whether it was already
    live."""

    use_case: str
    version: str
    rows: int
    skipped: bool
    seconds: float


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def latest_rows_sql(usecase: UseCase, table: str, ordered: bool = False) -> str:
    """SQL giving ``(key, row_json)`` for each entity's latest row (by key if ``ordered``)."""
    entity = _quote(usecase.entity)
    # Latest by event time, then row key; by row key alone when rows are timeless.
    order = ", ".join(_quote(c) for c in (usecase.event_time, usecase.row_key) if c)
    columns = [*usecase.keys, *usecase.feature_view.features]
    packed = ", ".join(f"{_quote(c)} := {_quote(c)}" for c in dict.fromkeys(columns))
    return (
        f"SELECT CAST({entity} AS VARCHAR) AS key, "
        f"to_json(arg_max(struct_pack({packed}), struct_pack({order}))) AS row "
        f"FROM {table} GROUP BY {entity}" + (" ORDER BY key" if ordered else "")
    )


def _chunks(result: duckdb.DuckDBPyConnection) -> Iterator[Sequence[tuple[str, str]]]:
    reader = result.fetch_record_batch(CHUNK_ROWS)
    for batch in reader:
        keys, rows = batch.column(0).to_pylist(), batch.column(1).to_pylist()
        yield list(zip(keys, rows, strict=True))


def materialize(
    usecase: UseCase,
    offline: OfflineStore,
    online: OnlineStore,
    settings: Settings,
    version: int | None = None,
    force: bool = False,
    on_rows: Callable[[int], None] | None = None,
    incremental: bool = False,
) -> MaterializeResult:
    """Make the online snapshot of ``version`` (latest by default) live; skip if it already
    is. ``incremental``: rewrite only the entities with rows appended since the live one."""
    started = time.perf_counter()
    delta = offline.open(usecase.name, FEATURES_TABLE, version)
    wanted = f"v{delta.version()}"
    live = online.snapshot(usecase.name)
    if live is not None and live.version == wanted and not force:
        return MaterializeResult(usecase.name, wanted, live.rows, True, 0.0)
    appended = _appended_since(offline, usecase, live, delta.version()) if incremental else None
    settings.scratch_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(
        config={
            "memory_limit": settings.duckdb_memory_limit,
            "temp_directory": str(settings.scratch_dir / "duckdb"),
            "preserve_insertion_order": False,
        }
    )
    try:
        if appended is not None:
            chunks = _chunks(_changed_rows(con, usecase, *appended, online.wants_key_order))
        else:
            con.register("offline_features", delta.to_pyarrow_dataset())
            sql = latest_rows_sql(usecase, "offline_features", online.wants_key_order)
            chunks = _chunks(con.execute(sql))
        if on_rows is not None:
            chunks = _reporting(chunks, on_rows)
        if appended is not None and live is not None:  # (live: checked by _appended_since)
            rows = online.update_snapshot(usecase.name, live.version, wanted, chunks)
        else:
            rows = online.write_snapshot(usecase.name, wanted, chunks)
    finally:
        con.close()
    return MaterializeResult(usecase.name, wanted, rows, False, time.perf_counter() - started)


def _changed_rows(
    con: duckdb.DuckDBPyConnection,
    usecase: UseCase,
    added: list[Path],
    stored: list[Path],
    ordered: bool,
) -> duckdb.DuckDBPyConnection:
    """``(key, row_json)`` of the entities with appended rows: each one's latest row.

    A stored row can only be an entity's latest if it is no earlier than the entity's
    appended rows, so of the stored files only the rows from the earliest appended time on
    are read (the scan skips the rest on their time column alone).
    """
    first = _quote(usecase.event_time or usecase.row_key)
    entity = _quote(usecase.entity)
    wanted = dict.fromkeys([*usecase.keys, *usecase.feature_view.features])
    columns = ", ".join(_quote(c) for c in wanted)
    con.read_parquet([str(f) for f in added]).create_view("appended")
    con.read_parquet([str(f) for f in stored]).create_view("stored")
    (start,) = con.execute(f"SELECT min({first}) FROM appended").fetchone() or (None,)
    rows = (
        f"(SELECT {columns} FROM appended UNION ALL SELECT {columns} FROM stored "
        f"WHERE {first} >= $start AND {entity} IN (SELECT {entity} FROM appended))"
    )
    return con.execute(latest_rows_sql(usecase, rows, ordered), {"start": start})


def _appended_since(
    offline: OfflineStore, usecase: UseCase, live: Snapshot | None, target: int
) -> tuple[list[Path], list[Path]]:
    """The files ``target`` added since the live snapshot's version, and the ones it had
    then; refused when a version between them is not an incremental build."""
    name = usecase.name
    start = _version_number(live.version) if live is not None else None
    if start is None or start > target:
        raise StoreError(
            f"{name}: no earlier snapshot of this table is live "
            f"({live.version if live else 'nothing'}); materialize without --incremental"
        )
    between = [v for v in offline.history(name, FEATURES_TABLE) if start < v["version"] <= target]
    full = [v["version"] for v in between if v.get("incremental") != "true"]
    if full:
        raise StoreError(
            f"{name}: version {min(full)} is a full build, not rows appended to v{start}; "
            "materialize without --incremental"
        )
    before = set(offline.files(name, FEATURES_TABLE, start))
    now = offline.files(name, FEATURES_TABLE, target)
    return [f for f in now if f not in before], [f for f in now if f in before]


def _version_number(snapshot: str) -> int | None:
    return int(snapshot[1:]) if snapshot[:1] == "v" and snapshot[1:].isdigit() else None


def _reporting(
    chunks: Iterator[Sequence[tuple[str, str]]], on_rows: Callable[[int], None]
) -> Iterator[Sequence[tuple[str, str]]]:
    for chunk in chunks:
        yield chunk
        on_rows(len(chunk))
