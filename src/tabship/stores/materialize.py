"""Copy the latest feature row per entity from the offline table to the online store."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import ibis
import pyarrow as pa

from tabship.features.engine import Engine
from tabship.stores.offline import OfflineStore
from tabship.stores.online.base import OnlineStore
from tabship.usecase import UseCase

FEATURES_TABLE = "features"


@dataclass(frozen=True)
class MaterializeResult:
    use_case: str
    version: str
    rows: int
    skipped: bool
    seconds: float


def snapshot_version(table_version: int) -> str:
    return f"v{table_version}"


def latest_rows(usecase: UseCase, engine: Engine, data: Any) -> ibis.Table:
    """One row per entity: its latest event (ties broken by the row key, highest last)."""
    table = engine.register_arrow(f"offline_{usecase.name}", data)
    order = [ibis.desc(usecase.event_time), ibis.desc(usecase.row_key)]
    rank = ibis.row_number().over(group_by=usecase.entity, order_by=order)
    columns = [usecase.entity, usecase.event_time, usecase.row_key, *usecase.feature_view.features]
    return table.mutate(_rank=rank).filter(ibis._["_rank"] == 0).select(*columns)


def _json_rows(batches: pa.RecordBatchReader, entity: str) -> Iterator[Sequence[tuple[str, str]]]:
    for batch in batches:
        rows = batch.to_pylist()
        yield [(str(r[entity]), json.dumps(r, default=_json_default)) for r in rows]


def _json_default(value: object) -> str:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in the online store")


def materialize(
    usecase: UseCase,
    offline: OfflineStore,
    online: OnlineStore,
    engine: Engine,
    version: int | None = None,
    force: bool = False,
    on_rows: Callable[[int], None] | None = None,
) -> MaterializeResult:
    """Make the online snapshot of ``version`` (latest by default) live; skip if it already is."""
    started = dt.datetime.now()
    delta = offline.open(usecase.name, FEATURES_TABLE, version)
    wanted = snapshot_version(delta.version())
    live = online.snapshot(usecase.name)
    if live is not None and live.version == wanted and not force:
        return MaterializeResult(usecase.name, wanted, live.rows, True, 0.0)
    expr = latest_rows(usecase, engine, delta.to_pyarrow_dataset())
    chunks = _json_rows(engine.batches(expr), usecase.entity)
    if on_rows is not None:
        chunks = _reporting(chunks, on_rows)
    rows = online.write_snapshot(usecase.name, wanted, chunks)
    seconds = (dt.datetime.now() - started).total_seconds()
    return MaterializeResult(usecase.name, wanted, rows, False, seconds)


def _reporting(
    chunks: Iterator[Sequence[tuple[str, str]]], on_rows: Callable[[int], None]
) -> Iterator[Sequence[tuple[str, str]]]:
    for chunk in chunks:
        yield chunk
        on_rows(len(chunk))
