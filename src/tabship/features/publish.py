"""Commit a build's tables: files first, then one commit per table, features last.

A build killed while it computes leaves no version behind (the staged files are swept),
and the commits follow each other in milliseconds. The feature table's commit publishes
the build and names the companion versions it goes with; an incremental build first sets
aside any companion version a killed build committed after them, then appends.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import ibis.expr.types as ir
import pyarrow as pa

from tabship.data.enrich import Reference, table_name
from tabship.data.report import QualityReport
from tabship.features.engine import Engine
from tabship.features.incremental import Base
from tabship.stores.offline import (
    FEATURES_TABLE,
    HISTORY_TABLE,
    QUARANTINE_TABLE,
    STAGING,
    OfflineStore,
    stage_arrow,
)
from tabship.usecase import UseCase

Step = Callable[[str], None]


@dataclass(frozen=True)
class Computed:
    """A build's tables before they are written: still queries, but the quarantine."""

    features: ir.Table
    history: ir.Table | None  # the valid rows' inputs, kept when features look back
    quarantined: pa.Table
    references: list[Reference]


def publish(
    usecase: UseCase,
    engine: Engine,
    offline: OfflineStore,
    tables: Computed,
    lineage: dict[str, str],
    report: QualityReport,
    step: Step,
    base: Base | None = None,
) -> None:
    """Write every table's files, then commit them (appending onto ``base`` when given).
    Records the versions in ``report`` and ``lineage``."""
    name = usecase.name
    with contextlib.ExitStack() as stack:

        def staging(table: str, folder: str | None = None) -> Path:
            return stack.enter_context(offline.staging(name, table, folder))

        staged = {}
        for ref in tables.references if base is None else []:
            staged[table_name(ref.spec)] = staging(table_name(ref.spec))
            stage_arrow(ref.rows, staged[table_name(ref.spec)])
        step("writing quarantine")
        quarantine_dir = staging(QUARANTINE_TABLE)
        stage_arrow(tables.quarantined, quarantine_dir)
        history_dir = None
        if tables.history is not None:
            step("writing history")
            history_dir = staging(HISTORY_TABLE)
            engine.write_parquet(tables.history, history_dir)
        step("computing and writing features")
        files_dir = staging(FEATURES_TABLE, f"{STAGING}{lineage['build_id']}")
        engine.write_parquet(tables.features, files_dir)
        for ref in tables.references if base is None else []:
            table = table_name(ref.spec)
            version = offline.commit_files(name, table, staged[table], lineage)
            lineage[f"enrich.{ref.spec.name}"] = f"{version}:{ref.version}"
        quarantine = _commit(offline, name, QUARANTINE_TABLE, quarantine_dir, lineage, base)
        report.quarantine_version = quarantine
        lineage["quarantine_version"] = str(quarantine)
        if history_dir is not None:
            history = _commit(offline, name, HISTORY_TABLE, history_dir, lineage, base)
            lineage["history_version"] = str(history)
        before = int(base.lineage.get("rows", 0)) if base is not None else 0
        lineage["rows"] = str(before + report.rows_out)  # the version's rows, not the build's
        report.feature_version = _commit(offline, name, FEATURES_TABLE, files_dir, lineage, base)


def _commit(
    offline: OfflineStore,
    name: str,
    table: str,
    folder: Path,
    lineage: dict[str, str],
    base: Base | None,
) -> int:
    """One table's commit: a new content, or (incremental) the stored one plus ``folder``."""
    if base is None:
        return offline.commit_files(name, table, folder, lineage)
    if table != FEATURES_TABLE:
        offline.restore(name, table, base.version_of(table))
    return offline.commit_files(name, table, folder, lineage, append=True)
