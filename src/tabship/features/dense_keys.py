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

# At most 32M keys over at most 32M slots: 256 MB of values read and a byte per slot,
# all released before the features run.
MAX_SPAN = 1 << 25
MAX_SPAN_PER_ROW = 2
MAX_SORTED = 1 << 20  # keys too sparse for the array, but few enough to sort
_BUCKET_BITS = 6  # repeats are looked for per bucket of 64 values

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
        if rows > MAX_SORTED:
            return None

        # Few keys over a wide range (a day's new rows, say): sorting them is milliseconds,
        # where the engine's grouping sizes a table to the range (0.3 s for 100k keys).
        def sort() -> pa.Table:
            values, counts = np.unique(np.concatenate(parts), return_counts=True)
            return pa.table({column: pa.array(values[counts > 1]).cast(wanted)})

        return sort

    def count() -> pa.Table:
        found = _repeated(parts, low, span) + low
        return pa.table({column: pa.array(found).cast(wanted)})

    return count


def _repeated(parts: list[np.ndarray], low: int, span: int) -> np.ndarray:
    """The keys (each in ``range(low, low + span)``) found more than once, less ``low``.

    A byte per value answers the usual question (is any key repeated?) from a 10 MB
    array the cache mostly holds. Only when some key repeats are rows counted, per
    bucket of 64 values (an array as small again): a bucket with more rows than distinct
    values holds the repeats, and only its rows are sorted to name them. Keys are offset
    a chunk at a time through one small buffer. In a fresh process this took a third of
    the time of counting every value at once, whose 80 MB of int64 counts, and as much
    again of offsets, are new memory the kernel must map and zero page by page.
    """
    scratch = np.empty(max(len(part) for part in parts), dtype=np.intp)

    def offsets(part: np.ndarray) -> np.ndarray:
        out = scratch[: len(part)]  # numpy's index type: any other is copied to it
        np.subtract(part, low, out=out)
        return out

    buckets = (span >> _BUCKET_BITS) + 1
    seen = np.zeros(buckets << _BUCKET_BITS, dtype=np.bool_)
    for part in parts:
        seen[offsets(part)] = True
    rows = sum(len(part) for part in parts)
    if int(np.count_nonzero(seen)) == rows:
        return np.zeros(0, dtype=np.int64)
    per_bucket = np.zeros(buckets, dtype=np.int64)
    for part in parts:
        per_bucket += np.bincount(offsets(part) >> _BUCKET_BITS, minlength=buckets)
    crowded = per_bucket > seen.reshape(buckets, -1).sum(axis=1, dtype=np.int64)
    if int(per_bucket[crowded].sum()) > rows // 4:  # repeats everywhere: count every value
        whole = np.concatenate([np.subtract(part, low, dtype=np.intp) for part in parts])
        return np.flatnonzero(np.bincount(whole, minlength=span) > 1)
    candidates = [(o := offsets(part))[crowded[o >> _BUCKET_BITS]] for part in parts]
    values, counts = np.unique(np.concatenate(candidates), return_counts=True)
    return values[counts > 1]


def _int64_chunks(column: pa.ChunkedArray) -> list[np.ndarray]:
    """The int64 chunks as arrays over their buffers (``to_numpy`` would import pandas)."""
    return [
        np.frombuffer(c.buffers()[1], dtype=np.int64, count=len(c), offset=c.offset * 8)
        for c in column.chunks
        if len(c)
    ]
