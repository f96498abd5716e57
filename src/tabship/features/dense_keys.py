"""Duplicated values of an integer key that spans a dense range (row ids, say).

Marking each value in an array indexed by ``value - min`` finds them in a few passes
over the key column. DuckDB's grouping of the same column first builds one table per
thread sized to the whole value range (for 10M ids, longer to build than to fill), then
merges them on one core. Only for keys whose range is at most a few times the row count,
so the array stays small; other keys are grouped.
"""

from __future__ import annotations

from collections.abc import Callable

import ibis.expr.datatypes as idt
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

# At most 32M keys over at most 32M slots: 256 MB of values read, as much again of
# offsets, and a byte per slot, all released before the features run.
MAX_SPAN = 1 << 25
MAX_SPAN_PER_ROW = 2

Fetch = Callable[[ir.Expr], pa.Table]
Count = Callable[[], pa.Table]


def dense_duplicates(fetch: Fetch, table: ir.Table, column: str) -> Count | None:
    """The values of ``column`` found on more than one row, as a function to call, or
    None when the column is not an integer or its range is too sparse for counting
    (group it instead).

    The key is read here, through ``fetch``; the function returned only counts, in
    numpy, on one core and without the engine, so the engine can run other queries
    meanwhile. The bounds come from the values: asking the engine for them first is
    free on Parquet (file statistics) but a whole extra parse of a CSV.
    """
    key = table[column]
    if not key.type().is_integer() or isinstance(key.type(), idt.UInt64):
        return None  # (a uint64 past 2**63 does not fit the int64 read)
    read = table.filter(key.notnull()).select(k=key.cast("int64")).limit(MAX_SPAN + 1)
    parts = _int64_chunks(fetch(read).column("k"))
    wanted = key.type().to_pyarrow()
    rows = sum(len(part) for part in parts)
    if not rows:
        return lambda: pa.table({column: pa.array([], wanted)})
    low = min(int(part.min()) for part in parts)
    span = max(int(part.max()) for part in parts) - low + 1
    if rows > MAX_SPAN or span > min(MAX_SPAN, MAX_SPAN_PER_ROW * rows + 1024):
        return None

    def count() -> pa.Table:
        # Offsets as numpy's own index type: narrower ones are converted to it (copied)
        # by both the marking and the count, which took longer than the work itself.
        offsets = np.empty(rows, dtype=np.intp)
        start = 0
        for part in parts:
            np.subtract(part, low, out=offsets[start : start + len(part)])
            start += len(part)
        found = _repeated(offsets, span) + low
        return pa.table({column: pa.array(found).cast(wanted)})

    return count


def _repeated(keys: np.ndarray, span: int) -> np.ndarray:
    """The keys (each in ``range(span)``) found more than once.

    A byte per slot answers the usual question (is any key repeated?) from a 10 MB array
    the cache holds, where ``np.bincount``'s 80 MB of int64 counts make every increment a
    memory round trip; only when some key repeats are they counted to name it.
    """
    seen = np.zeros(span, dtype=np.bool_)
    seen[keys] = True
    if int(np.count_nonzero(seen)) == len(keys):
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.bincount(keys, minlength=span) > 1)


def _int64_chunks(column: pa.ChunkedArray) -> list[np.ndarray]:
    """The int64 chunks as arrays over their buffers (``to_numpy`` would import pandas)."""
    return [
        np.frombuffer(c.buffers()[1], dtype=np.int64, count=len(c), offset=c.offset * 8)
        for c in column.chunks
        if len(c)
    ]
