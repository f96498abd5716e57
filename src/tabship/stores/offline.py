"""Versioned offline tables (Delta Lake) under ``<home>/offline/<use case>/<table>``.

Every write is one Delta commit: readers see the previous version until the commit
lands, and a process killed mid-write leaves only unreferenced files behind. Each
commit carries the lineage a training run records (raw-data and code versions).
"""

from __future__ import annotations

import fcntl
import json
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
from deltalake import CommitProperties, DeltaTable, Schema
from deltalake.exceptions import TableNotFoundError
from deltalake.transaction import AddAction, RemoveAction, create_table_with_add_actions

from tabship.errors import StoreError

LINEAGE_PREFIX = "tabship."
STAGING = "build-"
FEATURES_TABLE = "features"
QUARANTINE_TABLE = "quarantine"
HISTORY_TABLE = "history"  # the valid rows' inputs that point-in-time features look back on


class OfflineStore:
    """Delta tables of one TABSHIP_HOME, addressed by use case and table name."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, use_case: str, table: str) -> Path:
        """The folder of a use case's table."""
        return self.root / use_case / table

    def write(
        self,
        use_case: str,
        table: str,
        data: pa.RecordBatchReader | pa.Table,
        lineage: dict[str, str],
    ) -> int:
        """Replace the table's content in one commit; returns the new version."""
        with self.staging(use_case, table) as folder:
            stage_arrow(data, folder)
            return self.commit_files(use_case, table, folder, lineage)

    @contextmanager
    def staging(self, use_case: str, table: str, name: str | None = None) -> Iterator[Path]:
        """A new folder inside the table's directory for the files of one coming commit
        (see ``staged_folder``)."""
        with staged_folder(self.path(use_case, table), name) as folder:
            yield folder

    def sweep(self, use_case: str, table: str) -> list[Path]:
        """Remove staged folders no commit references and no live writer holds (what a
        killed write left behind); returns what was removed."""
        root = self.path(use_case, table)
        referenced = _referenced_folders(root)
        removed = []
        for folder in sorted(root.glob(f"{STAGING}*")):
            if not folder.is_dir() or folder.name in referenced:
                continue
            lock_path = _lock_path(folder)
            with _locked(lock_path, wait=False) as mine:
                if mine:
                    shutil.rmtree(folder, ignore_errors=True)
                    lock_path.unlink(missing_ok=True)
                    removed.append(folder)
        return removed

    def commit_files(
        self,
        use_case: str,
        table: str,
        folder: Path,
        lineage: dict[str, str],
        append: bool = False,
    ) -> int:
        """Commit the files staged in ``folder`` to the table (see ``commit_folder``),
        then sweep what killed writers left."""
        version = commit_folder(self.path(use_case, table), folder, lineage, append)
        self.sweep(use_case, table)
        return version

    def restore(self, use_case: str, table: str, version: int) -> int:
        """Make ``version`` the latest again (one commit) unless it already is: what a
        build killed between two tables' commits left on top is set aside."""
        delta = self.open(use_case, table)
        if delta.version() != version:
            delta.restore(version)
        return int(self.open(use_case, table).version())

    def files(self, use_case: str, table: str, version: int | None = None) -> list[Path]:
        """The Parquet files of a table version (an engine reads them natively)."""
        uris = self.open(use_case, table, version).file_uris()
        return [Path(unquote(u.removeprefix("file://"))) for u in uris]

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
        """A table version as an Arrow dataset (read lazily)."""
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


@contextmanager
def staged_folder(root: Path, name: str | None = None) -> Iterator[Path]:
    """A new folder inside the Delta table at ``root`` for the files of one coming commit.

    It is locked while its writer lives (the kernel drops the lock of a killed process),
    so the sweep after a later commit can tell an abandoned folder from one being
    written. A writer that fails removes its folder at once.
    """
    root.mkdir(parents=True, exist_ok=True)
    folder = root / (name or f"{STAGING}{uuid.uuid4().hex[:16]}")
    with _locked(_lock_path(folder), wait=True) as lock:
        assert lock
        try:
            yield folder
        except BaseException:
            if folder.name not in _referenced_folders(root):  # never a committed one
                shutil.rmtree(folder, ignore_errors=True)
            raise


def commit_folder(
    root: Path,
    folder: Path,
    lineage: dict[str, str],
    append: bool = False,
    prefix: str = LINEAGE_PREFIX,
) -> int:
    """Make the Parquet files an engine wrote into ``folder`` (inside the Delta table at
    ``root``) the table's new content (or, with ``append``, add them to it), in one
    commit; returns the new version.

    Until this commit lands the files are invisible to readers; a crash before it
    leaves them unreferenced and the previous version intact. The lineage goes into the
    commit's metadata, its keys under ``prefix``.
    """
    files = sorted(folder.rglob("*.parquet"))
    if not files:
        raise StoreError(f"no Parquet file was written to {folder}")
    # Engines differ on which columns they mark NOT NULL; the table's schema does not.
    schema = pa.schema([f.with_nullable(True) for f in pq.read_schema(files[0])])
    actions = [_add_action(root, f) for f in files]
    metadata = CommitProperties(custom_metadata={prefix + k: v for k, v in lineage.items()})
    if not (root / "_delta_log").is_dir():
        create_table_with_add_actions(
            str(root), Schema.from_arrow(schema), actions, mode="error", commit_properties=metadata
        )
        return 0
    DeltaTable(str(root)).create_write_transaction(
        list[AddAction | RemoveAction](actions),
        "append" if append else "overwrite",
        schema,
        commit_properties=metadata,
    )
    return int(DeltaTable(str(root)).version())


def stage_arrow(data: pa.RecordBatchReader | pa.Table, folder: Path) -> None:
    """Write Arrow data as Parquet files into ``folder`` (one empty file for no rows, so
    an empty table still has a schema)."""
    folder.mkdir(parents=True, exist_ok=False)
    pads.write_dataset(
        data,
        folder,
        format="parquet",
        basename_template="part-{i}.parquet",
        existing_data_behavior="error",
    )
    if not any(folder.glob("*.parquet")):
        pq.write_table(data.schema.empty_table(), folder / "part-0.parquet")


def _lock_path(folder: Path) -> Path:
    return folder.with_name(folder.name + ".lock")


@contextmanager
def _locked(path: Path, wait: bool) -> Iterator[bool]:
    """Hold an exclusive lock on ``path`` (created if needed); False if ``wait`` is off
    and another process holds it."""
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
            if wait:
                path.unlink(missing_ok=True)


def _referenced_folders(root: Path) -> set[str]:
    """The first path component of every file any commit of the table added."""
    folders = set()
    for commit in (root / "_delta_log").glob("*.json"):
        for line in commit.read_text().splitlines():
            added = json.loads(line).get("add") if line.strip() else None
            if added:
                folders.add(unquote(added["path"]).split("/", 1)[0])
    if (root / "_delta_log").is_dir() and not folders:  # logs compacted into checkpoints
        paths = DeltaTable(str(root)).get_add_actions(flatten=True).column("path").to_pylist()
        folders.update(unquote(str(f)).split("/", 1)[0] for f in paths)
    return folders


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
