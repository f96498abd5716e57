"""What a Parquet footer proves about a column in every row: no NULL, nothing below or above
a bound.

A rule these facts prove unbroken need not be evaluated row by row (on 10M rows, evaluating
the rules costs as much as decoding the columns). Only facts that hold for every row group
of every file count: a missing statistic proves nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq


@dataclass(frozen=True)
class ColumnStats:
    """Bounds and NULL count of one column over all rows (None: unknown)."""

    rows: int
    nulls: int | None
    low: Any = None
    high: Any = None
    floating: bool = False  # NaN is left out of the bounds, and sorts above every number

    def never_null(self) -> bool:
        """Whether the footers prove the column holds no NULL."""
        return self.nulls == 0

    def never_below(self, bound: object) -> bool:
        """No value < ``bound`` (NaN is not below anything)."""
        return self._all_null() or _holds(self.low, lambda low: low >= bound)

    def always_above(self, bound: object) -> bool:
        """Every value > ``bound``, so none is <= it (NaN is not <= anything)."""
        return self._all_null() or _holds(self.low, lambda low: low > bound)

    def never_above(self, bound: object) -> bool:
        """No value > ``bound`` (a float column may hide a NaN, which is above)."""
        if self._all_null():
            return True
        return not self.floating and _holds(self.high, lambda high: high <= bound)

    def only_integers_in(self, values: Iterable[object]) -> bool:
        """An integer column whose bounds leave room only for ``values``."""
        if self._all_null():
            return True
        if type(self.low) is not int or type(self.high) is not int:  # (not bool either)
            return False
        allowed = set(values)
        span = self.high - self.low
        return 0 <= span < len(allowed) and all(
            v in allowed for v in range(self.low, self.high + 1)
        )

    def _all_null(self) -> bool:
        return self.nulls is not None and self.nulls == self.rows


def _holds(value: Any, check: Any) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    try:
        return bool(check(value))
    except TypeError:  # a bound of another type proves nothing
        return False


def parquet_stats(files: list[Path]) -> dict[str, ColumnStats]:
    """Facts about each top-level column of ``files``, merged over every row group; a
    column some file with rows lacks is left out (nothing is proven about it)."""
    merged: dict[str, _Merge] = {}
    files_with_rows = 0
    for file in files:
        meta = pq.read_metadata(file)
        files_with_rows += meta.num_rows > 0
        for g in range(meta.num_row_groups):
            group = meta.row_group(g)
            for c in range(group.num_columns):
                chunk = group.column(c)
                merged.setdefault(chunk.path_in_schema, _Merge()).add(chunk, group.num_rows, file)
    return {
        name: m.result()
        for name, m in merged.items()
        if len(m.files) == files_with_rows and "." not in name
    }


@dataclass
class _Merge:
    rows: int = 0
    nulls: int | None = 0
    low: Any = None
    high: Any = None
    bounded: bool = True
    floating: bool = False
    files: set[Path] = field(default_factory=set)  # the files holding rows of the column

    def add(self, chunk: Any, rows: int, file: Path) -> None:
        if rows:
            self.files.add(file)
        self.rows += rows
        stats = chunk.statistics
        self.floating = self.floating or chunk.physical_type in ("FLOAT", "DOUBLE")
        if stats is None:
            self.nulls, self.bounded = None, False
            return
        group_nulls = stats.null_count if stats.has_null_count else None
        self.nulls = None if self.nulls is None or group_nulls is None else self.nulls + group_nulls
        if not stats.has_min_max:
            # Bounds are missing for a group of only NULLs, harmlessly; otherwise unknown.
            self.bounded = self.bounded and group_nulls == rows
            return
        if any(isinstance(v, float) and math.isnan(v) for v in (stats.min, stats.max)):
            self.bounded = False  # an old writer's NaN bound: unordered, so unusable
            return
        try:
            self.low = stats.min if self.low is None else min(self.low, stats.min)
            self.high = stats.max if self.high is None else max(self.high, stats.max)
        except TypeError:
            self.bounded = False

    def result(self) -> ColumnStats:
        if not self.bounded:
            return ColumnStats(self.rows, self.nulls, floating=self.floating)
        return ColumnStats(self.rows, self.nulls, self.low, self.high, self.floating)
