"""Row numbers for a table without an id: each row's position in its source files.

Engines read files in parallel and promise no order, so the numbers are written once,
streaming, into a Parquet copy of the source (text columns of a CSV stay text, as the
contract expects them): 1, 2, ... in file order, files in name order. The copy is named
by the files' content hash, so a rebuild from the same files reuses it.
"""

from __future__ import annotations

import csv
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from tabship.data.sources import fingerprint
from tabship.errors import SourceError


def numbered(files: list[Path], column: str, scratch: Path) -> Path:
    """A Parquet copy of ``files`` with ``column`` holding each row's number (from 1)."""
    folder = scratch / "numbered"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{fingerprint(files)}-{column}.parquet"
    if target.is_file():
        return target
    partial = folder / f".{uuid.uuid4().hex}.partial"
    writer: pq.ParquetWriter | None = None
    start = 1
    try:
        for file in files:
            for batch in _batches(file):
                if column in batch.schema.names:
                    raise SourceError(f"{file} already has a column '{column}' (source.row_number)")
                numbers = pa.array(range(start, start + batch.num_rows), pa.int64())
                table = pa.Table.from_batches([batch]).append_column(column, numbers)
                if writer is None:
                    writer = pq.ParquetWriter(partial, table.schema)
                elif table.schema != writer.schema:
                    raise SourceError(f"{file} has other columns than {files[0]}")
                writer.write_table(table)
                start += batch.num_rows
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        raise SourceError(f"{files[0]} has no rows")
    os.replace(partial, target)
    return target


def _batches(file: Path) -> Iterator[pa.RecordBatch]:
    """A file's rows in order, in batches (a CSV's columns as text)."""
    if file.suffix == ".parquet":
        return iter(pq.ParquetFile(file).iter_batches())
    with file.open(newline="") as handle:
        header = next(csv.reader(handle), [])
    options = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in header}, strings_can_be_null=True
    )
    return iter(pacsv.open_csv(file, convert_options=options))
