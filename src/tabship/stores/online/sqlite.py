"""SQLite online store: the embedded default, one file, no server.

Each use case has a live table ``online_<use case>``; a new snapshot is filled in a
staging table and renamed over the live one inside a single transaction (WAL mode lets
readers keep reading the old snapshot until the commit).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from tabship.errors import StoreError
from tabship.stores.online.base import Lookup, OnlineStore, Snapshot
from tabship.stores.online.base import not_live as _not_live

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAX_VARS = 900
# Page cache (KiB, as SQLite's negative cache_size) while a snapshot is written: the
# default 2 MiB evicts the index pages an update or insert comes back to.
_WRITE_CACHE_KIB = 65_536


def _table(use_case: str, staging: bool = False) -> str:
    if not _NAME.match(use_case):
        raise ValueError(f"invalid use case name for a table: {use_case!r}")
    return f"online_{use_case}" + ("__staging" if staging else "")


@contextlib.contextmanager
def _writing(con: sqlite3.Connection) -> Iterator[None]:
    """One write transaction, committed whole or rolled back, with a larger page cache."""
    (cache,) = con.execute("PRAGMA cache_size").fetchone()
    con.execute(f"PRAGMA cache_size = -{_WRITE_CACHE_KIB}")
    con.execute("BEGIN IMMEDIATE")
    try:
        yield
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.execute(f"PRAGMA cache_size = {int(cache)}")


class SQLiteOnlineStore(OnlineStore):
    """The online store on SQLite (WAL): a table per snapshot, the live one switched atomically."""

    name = "sqlite"
    wants_key_order = True

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._one_sql: dict[str, str] = {}
        con = self._con()
        con.execute("PRAGMA journal_mode=WAL")
        con.execute(
            "CREATE TABLE IF NOT EXISTS tabship_snapshots (use_case TEXT PRIMARY KEY,"
            " version TEXT NOT NULL, rows INTEGER NOT NULL, written_at TEXT NOT NULL)"
        )
        con.commit()

    def _con(self) -> sqlite3.Connection:
        # One connection per thread: sqlite3 connections must not be shared across threads.
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            con.execute("PRAGMA synchronous=NORMAL")
            self._local.con = con
        return con

    def write_snapshot(
        self, use_case: str, version: str, rows: Iterable[Sequence[tuple[str, str]]]
    ) -> int:
        """Write a snapshot into a new table, then make it live in one transaction."""
        live, staging = _table(use_case), _table(use_case, staging=True)
        con = self._con()
        with _writing(con):
            con.execute(f"DROP TABLE IF EXISTS {staging}")
            con.execute(f"CREATE TABLE {staging} (key TEXT PRIMARY KEY, row TEXT NOT NULL)")
            count = 0
            for chunk in rows:
                con.executemany(f"INSERT INTO {staging} VALUES (?, ?)", chunk)
                count += len(chunk)
            con.execute(f"DROP TABLE IF EXISTS {live}")
            con.execute(f"ALTER TABLE {staging} RENAME TO {live}")
            con.execute(
                "INSERT OR REPLACE INTO tabship_snapshots VALUES (?, ?, ?, ?)",
                (use_case, version, count, dt.datetime.now(dt.UTC).isoformat()),
            )
        return count

    def update_snapshot(
        self, use_case: str, base: str, version: str, rows: Iterable[Sequence[tuple[str, str]]]
    ) -> int:
        """Upsert the rows into the live table in one transaction (readers see the old
        snapshot until it commits)."""
        live, con = _table(use_case), self._con()
        with _writing(con):
            current = con.execute(
                "SELECT version FROM tabship_snapshots WHERE use_case = ?", (use_case,)
            ).fetchone()
            if current is None or current[0] != base:
                raise StoreError(_not_live(use_case, base, current and current[0]))
            upsert = (
                f"INSERT INTO {live} VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET row = excluded.row"
            )
            for chunk in rows:  # an update in place: 3× faster than a REPLACE's delete + insert
                con.executemany(upsert, chunk)
            count = int(con.execute(f"SELECT COUNT(*) FROM {live}").fetchone()[0])
            con.execute(
                "UPDATE tabship_snapshots SET version = ?, rows = ?, written_at = ?"
                " WHERE use_case = ?",
                (version, count, dt.datetime.now(dt.UTC).isoformat(), use_case),
            )
        return count

    def lookup(self, use_case: str, keys: Sequence[str]) -> Lookup:
        """The rows of ``keys`` from the live snapshot."""
        if len(keys) == 1:
            return self._lookup_one(use_case, keys[0])
        con, live = self._con(), _table(use_case)
        found: dict[str, str] = {}
        version: str | None = None
        # One statement per chunk, each reading the version beside the rows: a statement
        # is its own read transaction, so a concurrent swap cannot split them.
        try:
            for start in range(0, max(len(keys), 1), _MAX_VARS):
                part = list(keys[start : start + _MAX_VARS])
                marks = ",".join("?" * len(part)) or "NULL"
                query = (
                    "SELECT s.version, o.key, o.row FROM tabship_snapshots AS s"
                    f" LEFT JOIN {live} AS o ON o.key IN ({marks}) WHERE s.use_case = ?"
                )
                for row_version, key, row in con.execute(query, [*part, use_case]):
                    version = row_version
                    if key is not None:
                        found[key] = row
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return Lookup(None, [None] * len(keys))
            raise
        return Lookup(version, [found.get(k) for k in keys])

    def _lookup_one(self, use_case: str, key: str) -> Lookup:
        """The serving path's common case, in one prepared statement."""
        query = self._one_sql.get(use_case)
        if query is None:
            query = self._one_sql[use_case] = (
                "SELECT s.version, o.row FROM tabship_snapshots AS s"
                f" LEFT JOIN {_table(use_case)} AS o ON o.key = ? WHERE s.use_case = ?"
            )
        try:
            found = self._con().execute(query, (key, use_case)).fetchone()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return Lookup(None, [None])
            raise
        return Lookup(None, [None]) if found is None else Lookup(found[0], [found[1]])

    def keys(self, use_case: str, limit: int) -> list[str]:
        """Up to ``limit`` keys of the live snapshot."""
        try:
            rows = self._con().execute(
                f"SELECT key FROM {_table(use_case)} ORDER BY key LIMIT ?", (limit,)
            )
            return [r[0] for r in rows.fetchall()]
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []
            raise

    def snapshot(self, use_case: str) -> Snapshot | None:
        """The live snapshot's version and size, or None."""
        row = (
            self._con()
            .execute(
                "SELECT use_case, version, rows, written_at FROM tabship_snapshots"
                " WHERE use_case = ?",
                (use_case,),
            )
            .fetchone()
        )
        return None if row is None else Snapshot(*row)

    def close(self) -> None:
        """Close the connection."""
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None
