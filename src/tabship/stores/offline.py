"""Versioned offline tables (Delta Lake) under ``<home>/offline/<use case>/<table>``.

Every write is one Delta commit: readers see the previous version until the commit
lands, and a process killed mid-write leaves only unreferenced files behind. Each
commit carries the lineage a training run records (raw-data and code versions).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
from deltalake import CommitProperties, DeltaTable, Schema, write_deltalake
from deltalake.exceptions import TableNotFoundError
from deltalake.transaction import AddAction, RemoveAction, create_table_with_add_actions

from tabship.errors import StoreError

LINEAGE_PREFIX = "tabship."
FEATURES_TABLE = "features"
QUARANTINE_TABLE = "quarantine"


class OfflineStore:
    """Delta tables of one TABSHIP_HOME, addressed by use case and table name."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, use_case: str, table: str) -> Path:
        return self.root / use_case / table

    def write(
        self,
        use_case: str,
        table: str,
        data: pa.RecordBatchReader | pa.Table,
        lineage: dict[str, str],
    ) -> int:
        """Replace the table's content in one commit; returns the new version."""
        path = self.path(use_case, table)
        path.mkdir(parents=True, exist_ok=True)
        metadata = {LINEAGE_PREFIX + k: v for k, v in lineage.items()}
        write_deltalake(
            str(path),
            data,
            mode="overwrite",
            schema_mode="overwrite",
            commit_properties=CommitProperties(custom_metadata=metadata),
        )
        return self.open(use_case, table).version()

    def commit_files(self, use_case: str, table: str, folder: Path, lineage: dict[str, str]) -> int:
        """Make the Parquet files an engine wrote into ``folder`` (inside the table's
        directory) the table's new content, in one commit; returns the new version.

        Until this commit lands the files are invisible to readers; a crash before it
        leaves them unreferenced and the previous version intact.
        """
        root = self.path(use_case, table)
        files = sorted(folder.rglob("*.parquet"))
        if not files:
            raise StoreError(f"no Parquet file was written to {folder}")
        # Engines differ on which columns they mark NOT NULL; the table's schema does not.
        schema = pa.schema([f.with_nullable(True) for f in pq.read_schema(files[0])])
        actions = [_add_action(root, f) for f in files]
        metadata = CommitProperties(
            custom_metadata={LINEAGE_PREFIX + k: v for k, v in lineage.items()}
        )
        if not (root / "_delta_log").is_dir():
            create_table_with_add_actions(
                str(root),
                Schema.from_arrow(schema),
                actions,
                mode="error",
                commit_properties=metadata,
            )
            return 0
        DeltaTable(str(root)).create_write_transaction(
            list[AddAction | RemoveAction](actions), "overwrite", schema, commit_properties=metadata
        )
        return self.open(use_case, table).version()

    def open(self, use_case: str, table: str, version: int | None = None) -> DeltaTable:
        """The table at ``version`` (latest by default); a clear error when absent."""
        path = self.path(use_case, table)
        try:
            delta = DeltaTable(str(path))
        except TableNotFoundError as exc:
            raise StoreError(
                f"no {table} table for '{use_case}' in {self.root} (run 'tabship features build')"
            ) from exc
        if version is not None:
            latest = delta.version()
            if not 0 <= version <= latest:
                raise StoreError(
                    f"{use_case}/{table} has no version {version} (versions 0..{latest})"
                )
            delta.load_as_version(version)
        return delta

    def dataset(self, use_case: str, table: str, version: int | None = None) -> pads.Dataset:
        return self.open(use_case, table, version).to_pyarrow_dataset()

    def lineage(self, use_case: str, table: str, version: int | None = None) -> dict[str, str]:
        """The lineage recorded with a version's commit."""
        wanted = self.open(use_case, table, version).version()
        # Read history from the latest snapshot: delta-rs numbers it wrongly on an older one.
        for entry in self.open(use_case, table).history():
            if entry.get("version") == wanted:
                return _lineage_of(entry)
        return {}

    def history(self, use_case: str, table: str) -> list[dict[str, Any]]:
        """One entry per version, newest first: version, time, rows, lineage."""
        out = []
        for entry in self.open(use_case, table).history():
            metrics = entry.get("operationMetrics", {})
            out.append(
                {
                    "version": entry.get("version"),
                    "timestamp": entry.get("timestamp"),
                    "rows": metrics.get("num_added_rows", entry.get(LINEAGE_PREFIX + "rows")),
                    **_lineage_of(entry),
                }
            )
        return out


def _add_action(root: Path, file: Path) -> AddAction:
    stat = file.stat()
    rows = pq.read_metadata(file).num_rows
    return AddAction(
        path=file.relative_to(root).as_posix(),
        size=stat.st_size,
        partition_values={},
        modification_time=int(stat.st_mtime * 1000),
        data_change=True,
        stats=json.dumps({"numRecords": rows}),
    )


def _lineage_of(entry: dict[str, Any]) -> dict[str, str]:
    return {
        k.removeprefix(LINEAGE_PREFIX): str(v)
        for k, v in entry.items()
        if k.startswith(LINEAGE_PREFIX)
    }
