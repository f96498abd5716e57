"""Versioned offline tables (Delta Lake) under ``<home>/offline/<use case>/<table>``.

Every write is one Delta commit: readers see the previous version until the commit
lands, and a process killed mid-write leaves only unreferenced files behind. Each
commit carries the lineage a training run records (raw-data and code versions).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as pads
from deltalake import CommitProperties, DeltaTable, write_deltalake
from deltalake.exceptions import TableNotFoundError

from tabship.errors import StoreError

LINEAGE_PREFIX = "tabship."


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
                    "rows": metrics.get("num_added_rows"),
                    **_lineage_of(entry),
                }
            )
        return out


def _lineage_of(entry: dict[str, Any]) -> dict[str, str]:
    return {
        k.removeprefix(LINEAGE_PREFIX): str(v)
        for k, v in entry.items()
        if k.startswith(LINEAGE_PREFIX)
    }
