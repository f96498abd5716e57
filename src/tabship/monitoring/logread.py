"""The prediction log as one DuckDB relation: today's JSON lines and compacted Parquet days.

The service appends JSON lines to ``<predictions>/<model>/<UTC day>.jsonl`` (or, replicas
sharing a volume, ``<UTC day>.<writer>.jsonl`` each); ``compact`` turns closed days into
one Parquet file each (a month of traffic stays cheap to scan). Reading never
loads the log into pandas: DuckDB scans the files and the callers aggregate in SQL. A line
a killed writer left half-written (or any line that is not an entry) is skipped and
counted, never fatal.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

COLUMNS = {
    "request_id": "VARCHAR",
    "time": "TIMESTAMPTZ",
    "version": "VARCHAR",
    "alias": "VARCHAR",
    "shadow": "BOOLEAN",
    "id": "VARCHAR",
    "prediction": "DOUBLE",
}
PREFIX = "in:"  # a logged input's column: "in:<name>"


def connect(memory_limit: str, scratch: Path, threads: int | None = None) -> Any:
    """A DuckDB connection for reading the log: bounded memory, spilling to ``scratch``."""
    import duckdb

    scratch.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {
        "memory_limit": memory_limit,
        "temp_directory": str(scratch / "duckdb"),
        "preserve_insertion_order": False,
    }
    if threads:
        config["threads"] = threads
    return duckdb.connect(config=config)


@dataclass(frozen=True)
class Window:
    """The time span read: ``since`` included, ``until`` excluded (UTC; None: open)."""

    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def holds(self, day: dt.date) -> bool:
        """Whether a day's file can hold entries of the window."""
        if self.since is not None and day < self.since.astimezone(dt.UTC).date():
            return False
        return self.until is None or day <= self.until.astimezone(dt.UTC).date()

    def sql(self) -> str:
        """The window as a WHERE condition on ``time``."""
        parts = ["TRUE"]
        if self.since is not None:
            parts.append(f"time >= '{self.since.astimezone(dt.UTC).isoformat()}'::TIMESTAMPTZ")
        if self.until is not None:
            parts.append(f"time < '{self.until.astimezone(dt.UTC).isoformat()}'::TIMESTAMPTZ")
        return " AND ".join(parts)


@dataclass
class LogScan:
    """The files of one model's log in a window, and what reading them skipped."""

    folder: Path
    window: Window = Window()
    lines: list[Path] = field(init=False)
    columnar: list[Path] = field(init=False)

    def __post_init__(self) -> None:
        lines = {d: p for d, p in _days(self.folder, "jsonl").items() if self.window.holds(d)}
        columnar = _days(self.folder, "parquet")
        # A day compacted (Parquet) wins over its leftover lines.
        self.columnar = [found[0] for d, found in sorted(columnar.items()) if self.window.holds(d)]
        self.lines = [p for d, found in sorted(lines.items()) if d not in columnar for p in found]

    def register(self, con: Any, inputs: dict[str, str]) -> None:
        """Create view ``log``: one row per logged prediction in the window, an ``in:<x>``
        column per input (``inputs``: name → DOUBLE or VARCHAR), NULL where not logged.
        View ``log_read`` also holds a row of NULLs per unreadable line (DuckDB reads one
        so), to count them in a query that reads the lines anyway."""
        con.execute("SET TimeZone = 'UTC'")
        parts = []
        if self.lines:
            parts.append(self._lines_sql(inputs))
        if self.columnar:
            parts.append(self._columnar_sql(con, inputs))
        union = " UNION ALL BY NAME ".join(f"({p})" for p in parts) or _nothing(inputs)
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW log_read AS SELECT * FROM ({union}) "
            f"WHERE request_id IS NULL OR ({self.window.sql()})"
        )
        con.execute(
            "CREATE OR REPLACE TEMP VIEW log AS SELECT * FROM log_read WHERE request_id IS NOT NULL"
        )

    def _lines_sql(self, inputs: dict[str, str]) -> str:
        picked = ", ".join(f"features.{quote(n)} AS {quote(PREFIX + n)}" for n in inputs)
        return f"SELECT {', '.join(COLUMNS)}{', ' + picked if picked else ''} " + (
            f"FROM {_json(self.lines, inputs)}"
        )

    def _columnar_sql(self, con: Any, inputs: dict[str, str]) -> str:
        files = "[" + ", ".join(quote_string(str(p)) for p in self.columnar) + "]"
        scan = f"read_parquet({files}, union_by_name=true)"
        present = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()}
        picked = [
            f"{quote(PREFIX + n)}::{t} AS {quote(PREFIX + n)}"
            if PREFIX + n in present
            else f"NULL::{t} AS {quote(PREFIX + n)}"
            for n, t in inputs.items()
        ]
        return f"SELECT {', '.join([*COLUMNS, *picked])} FROM {scan}"


def _json(lines: list[Path], inputs: dict[str, str]) -> str:
    """DuckDB's reader of JSON lines, typed: the entry's columns and the inputs' struct."""
    struct = ", ".join(f"{quote(n)} {t}" for n, t in inputs.items())
    columns = {**COLUMNS, **({"features": f"STRUCT({struct})"} if inputs else {})}
    pairs = (f"{quote_string(k)}: {quote_string(v)}" for k, v in columns.items())
    spec = "{" + ", ".join(pairs) + "}"
    files = "[" + ", ".join(quote_string(str(p)) for p in lines) + "]"
    return f"read_json({files}, format='newline_delimited', columns={spec}, ignore_errors=true)"


def _nothing(inputs: dict[str, str]) -> str:
    columns = [f"NULL::{t} AS {k}" for k, t in COLUMNS.items()]
    columns += [f"NULL::{t} AS {quote(PREFIX + n)}" for n, t in inputs.items()]
    return f"SELECT {', '.join(columns)} WHERE FALSE"


def _day(path: Path) -> dt.date | None:
    """The UTC day of ``<day>.jsonl``, ``<day>.<writer>.jsonl`` or ``<day>.parquet``."""
    try:
        return dt.date.fromisoformat(path.name.split(".", 1)[0])
    except ValueError:
        return None


def _days(folder: Path, suffix: str) -> dict[dt.date, list[Path]]:
    """The log's files with ``suffix`` by day (a day's writers' files in name order)."""
    days: dict[dt.date, list[Path]] = {}
    for path in sorted(folder.glob(f"*.{suffix}")):
        day = _day(path)
        if day is not None:
            days.setdefault(day, []).append(path)
    return days


def quote(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def quote_string(text: str) -> str:
    """A quoted SQL string."""
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class Compacted:
    """One day of the log turned into Parquet."""

    day: str
    rows: int
    skipped: int  # unreadable lines left behind
    path: Path


def compact(con: Any, folder: Path, before: dt.date) -> list[Compacted]:
    """Every day of JSON lines before ``before`` → ``<day>.parquet`` (an input per column),
    the files of all its writers together.

    Each day is written beside its lines under a temporary name, renamed into place, and
    only then are its lines removed: a reader meets either the lines or the Parquet file
    (which wins where both exist), never half a day. Lines found beside a day's Parquet
    file were left by a compaction killed while it removed them: they are in the file.
    """
    done = []
    compacted = _days(folder, "parquet")
    for day, lines in sorted(_days(folder, "jsonl").items()):
        if day >= before:
            continue
        if day not in compacted:
            done.append(_compact_day(con, folder / f"{day.isoformat()}.parquet", lines))
        for path in lines:
            path.unlink()
    return done


def _compact_day(con: Any, target: Path, lines: list[Path]) -> Compacted:
    """One day's lines → ``target``, written under a temporary name and renamed."""
    files = "[" + ", ".join(quote_string(str(p)) for p in lines) + "]"
    scan = f"read_json({files}, format='newline_delimited', ignore_errors=true, " + (
        "sample_size=-1, maximum_sample_files=-1)"
    )
    # One pass reads the day (every line's keys, in every writer's file, typed); the rest
    # works on the table.
    con.execute(f"CREATE OR REPLACE TEMP TABLE compacting AS SELECT * FROM {scan}")
    fields = dict(
        con.execute("SELECT column_name, column_type FROM (DESCRIBE compacting)").fetchall()
    )
    inputs = []
    if str(fields.get("features", "")).startswith("STRUCT"):
        found = con.execute("DESCRIBE SELECT unnest(features) FROM compacting").fetchall()
        inputs = [row[0] for row in found]
    picked = [f"{c}::{t} AS {c}" for c, t in COLUMNS.items() if c in fields]
    picked += [f"features.{quote(n)} AS {quote(PREFIX + n)}" for n in inputs]
    rows = f"SELECT {', '.join(picked)} FROM compacting WHERE request_id IS NOT NULL"
    partial = target.with_suffix(".parquet.partial")
    copied = con.execute(
        f"COPY ({rows}) TO {quote_string(str(partial))} (FORMAT parquet, COMPRESSION zstd)"
    ).fetchone()
    kept = int(copied[0])
    total = int(con.execute("SELECT count(*) FROM compacting").fetchone()[0])
    con.execute("DROP TABLE compacting")
    partial.replace(target)
    return Compacted(target.stem, kept, total - kept, target)
