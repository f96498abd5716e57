"""The compute engines behind the feature definitions: DuckDB (default) and Spark.

Both are Ibis backends, so definitions never know which one runs them. An engine only
knows how to connect, read source files and write a result out as Parquet files.
"""

from __future__ import annotations

import os
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pyarrow as pa
from ibis.formats.pyarrow import PyArrowData

from tabship.data.rules import duplicated_values
from tabship.errors import SourceError
from tabship.features.dense_keys import dense_duplicates
from tabship.settings import Settings

T = TypeVar("T")


def in_background(task: Callable[[], T], name: str) -> Future[T]:
    """Run ``task`` on a thread of its own, which ends with it."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
    done = pool.submit(task)
    pool.shutdown(wait=False)
    return done


class Engine(ABC):
    """Connect once, read sources, run expressions."""

    name: str
    con: Any
    scratch: Path  # room for the engine's own files (spills, numbered copies)

    @abstractmethod
    def read(self, files: list[Path]) -> ir.Table:
        """One table over every source file (all of one format)."""

    def register_arrow(self, name: str, data: pa.Table | pa.dataset.Dataset) -> ir.Table:
        """Expose in-memory or on-disk Arrow data as a table."""
        return self.con.create_view(name, ibis.memtable(data), overwrite=True)

    def to_arrow(self, expr: ir.Expr) -> pa.Table:
        """Run an expression and fetch its result as Arrow."""
        return self.con.to_pyarrow(expr)

    def duplicated_values(self, table: ir.Table, column: str) -> Future[pa.Table]:
        """The values of ``column`` found on more than one row. An engine may finish
        the count off its connection: until the future is done, other queries can run."""
        found: Future[pa.Table] = Future()
        found.set_result(self.to_arrow(duplicated_values(table, column)))
        return found

    @abstractmethod
    def write_parquet(self, expr: ir.Table, folder: Path) -> None:
        """Write a result as Parquet files into a new ``folder``, in parallel, natively."""

    def close(self) -> None:
        """Release the connection (Spark keeps its session for the process)."""


class DuckDBEngine(Engine):
    """The embedded engine: DuckDB in this process, spilling to disk past its memory limit."""

    name = "duckdb"

    def __init__(self, settings: Settings) -> None:
        settings.scratch_dir.mkdir(parents=True, exist_ok=True)
        self.scratch = settings.scratch_dir
        config: dict[str, Any] = {
            "memory_limit": settings.duckdb_memory_limit,
            "temp_directory": str(settings.scratch_dir / "duckdb"),
            "preserve_insertion_order": False,
            # Integer keys with a range up to 2**24 too sparse for dense_keys group through
            # an array instead of a hash table: that uniqueness check runs twice as fast.
            "perfect_ht_threshold": 24,
        }
        if settings.duckdb_threads:
            config["threads"] = settings.duckdb_threads
        self.con = ibis.duckdb.connect(**config)

    def read(self, files: list[Path]) -> ir.Table:
        """The source files as one table (CSV read as text: the contract types it)."""
        paths = [str(f) for f in files]
        if files[0].suffix == ".csv":
            # Read text as text: the contract types it and quarantines what does not parse.
            return self.con.read_csv(paths, all_varchar=True, header=True)
        return self.con.read_parquet(paths)

    def write_parquet(self, expr: ir.Table, folder: Path) -> None:
        """Write a result as Parquet files into a new ``folder``, in parallel, natively."""
        self.con.to_parquet(expr, folder, per_thread_output=True)

    def to_arrow(self, expr: ir.Expr) -> pa.Table:
        # Ibis's own fetch imports its pandas conversions on first use, 0.2 s of every
        # build; typing the result to the expression's schema needs only the Arrow ones.
        """Run an expression and fetch its result as Arrow, typed to its schema."""
        table = expr.as_table()
        schema = table.schema()
        if table.op().find(ops.InMemoryTable) or any(t.is_null() for t in schema.types):
            return super().to_arrow(expr)  # data to register first, or NULL-typed columns
        result = self.con.con.sql(self.con.compile(table)).to_arrow_table()
        return PyArrowData.convert_table(result, schema)

    def duplicated_values(self, table: ir.Table, column: str) -> Future[pa.Table]:
        # Local data: a dense integer key is counted in memory (see dense_keys), on a
        # core the engine leaves idle while the count runs single-threaded.
        """Values of ``column`` that repeat (counted in memory for dense integer keys)."""
        count = dense_duplicates(self.to_arrow, table, column)
        if count is None:
            return super().duplicated_values(table, column)
        return in_background(count, "tabship-keys")

    def register_arrow(self, name: str, data: pa.Table | pa.dataset.Dataset) -> ir.Table:
        # DuckDB scans Arrow datasets lazily, with projection and filter push-down.
        """Expose Arrow data to queries under ``name``."""
        raw = self.con.con
        raw.register(name, data)
        return self.con.table(name)

    def close(self) -> None:
        """Release the connection."""
        self.con.disconnect()


class SparkEngine(Engine):
    """The scale-out engine: the same definitions on a Spark session (local or a cluster)."""

    name = "spark"

    def __init__(self, settings: Settings) -> None:
        from pyspark.sql import SparkSession

        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        # Python workers run this interpreter unless told otherwise (PySpark reads the
        # variable when the session starts; a cluster sets its own).
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        session = (
            SparkSession.builder.master(settings.spark_master)
            .appName("tabship")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .getOrCreate()
        )
        self.session = session
        self.scratch = settings.scratch_dir
        self.con = ibis.pyspark.connect(session)
        self._views = 0

    def read(self, files: list[Path]) -> ir.Table:
        """The source files as one Spark-backed table."""
        paths = [str(f) for f in files]
        if files[0].suffix == ".csv":
            # Every column as text, like DuckDB: the contract types it.
            frame = self.session.read.csv(paths, header=True, inferSchema=False)
        else:
            frame = self.session.read.parquet(*paths)
        self._views += 1
        name = f"tabship_source_{self._views}"
        frame.createOrReplaceTempView(name)
        return self.con.table(name)

    def write_parquet(self, expr: ir.Table, folder: Path) -> None:
        """Write a result as Parquet files into a new ``folder`` from Spark's executors."""
        self.con.to_parquet_dir(expr, folder)


def connect(settings: Settings, name: str | None = None) -> Engine:
    """The engine named in settings (or ``name``)."""
    chosen = name or settings.engine
    if chosen == "duckdb":
        return DuckDBEngine(settings)
    if chosen == "spark":
        try:
            return SparkEngine(settings)
        except ImportError as exc:
            raise SourceError("the spark engine needs the [spark] extra") from exc
    raise SourceError(f"unknown engine '{chosen}' (duckdb or spark)")
