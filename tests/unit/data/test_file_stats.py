"""Parquet footers prove a rule unbroken only when every row group of every file says so;
a rule proven so is skipped, and the quarantine is the same as when every rule runs."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import ibis
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tabship.data.file_stats import ColumnStats, parquet_stats
from tabship.data.rules import apply_contract
from tabship.usecase.contract import ColumnSpec, ContractSpec

TODAY = dt.date(2021, 10, 1)
SPEC = ContractSpec(
    columns={
        "key": ColumnSpec(type="int64", nullable=False, min=0),
        "flag": ColumnSpec(type="int64", isin=[0, 1]),
        "size": ColumnSpec(type="float64", min=1, max=30),
        "amount": ColumnSpec(type="float64", nullable=False, greater_than=0),
        "on": ColumnSpec(type="date", nullable=False, min=dt.date(2000, 1, 1), max="today"),
        "started": ColumnSpec(type="date", max="today", unknown_values=[dt.date(3021, 9, 18)]),
    }
)


def _write(path: Path, rows: list[dict[str, object]], **options: object) -> Path:
    schema = pa.schema(
        [
            ("key", pa.int64()),
            ("flag", pa.int64()),
            ("size", pa.float64()),
            ("amount", pa.float64()),
            ("on", pa.date32()),
            ("started", pa.date32()),
        ]
    )
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path, **options)  # type: ignore[arg-type]
    return path


def _row(key: int, **overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "key": key,
        "flag": key % 2,
        "size": 2.0,
        "amount": 10.5,
        "on": dt.date(2020, 1, 1),
        "started": dt.date(2010, 1, 1),
    }
    return row | overrides


def _quarantine(files: list[Path], use_stats: bool) -> tuple[dict[int, list[str]], set[str]]:
    raw = ibis.read_parquet([str(f) for f in files])
    stats = parquet_stats(files) if use_stats else None
    checked = apply_contract(raw, SPEC, TODAY, stats)
    rows = checked.invalid_rows().to_pyarrow().to_pylist()
    return {r["key"]: sorted(r["rules"]) for r in rows}, set(checked.proven)


def test_bounds_and_nulls_merge_over_row_groups_and_files(tmp_path: Path) -> None:
    first = _write(tmp_path / "a.parquet", [_row(k) for k in range(5)], row_group_size=2)
    second = _write(tmp_path / "b.parquet", [_row(9, on=None, size=7.5)])
    stats = parquet_stats([first, second])
    assert (stats["key"].low, stats["key"].high, stats["key"].nulls) == (0, 9, 0)
    assert stats["on"].nulls == 1
    assert stats["on"].rows == 6
    assert stats["size"].floating
    assert stats["size"].high == 7.5
    assert stats["on"].high == dt.date(2020, 1, 1)


def test_a_column_some_file_lacks_is_left_out_whatever_the_file_order(tmp_path: Path) -> None:
    with_extra = tmp_path / "with.parquet"
    pq.write_table(pa.table({"key": [1, 2], "extra": [5, 6]}), with_extra)
    without = tmp_path / "without.parquet"
    pq.write_table(pa.table({"key": [3]}), without)
    for files in ([with_extra, without], [without, with_extra]):
        stats = parquet_stats(files)
        assert "extra" not in stats
        assert (stats["key"].low, stats["key"].high) == (1, 3)


def test_clean_files_skip_the_rules_their_statistics_prove(tmp_path: Path) -> None:
    rows = [_row(k) for k in range(20)] + [_row(20, started=dt.date(3021, 9, 18))]
    files = [_write(tmp_path / "clean.parquet", rows, row_group_size=7)]
    broken, proven = _quarantine(files, use_stats=True)
    assert broken == {}
    assert {"key:not_null", "key:min", "flag:isin", "on:max", "amount:greater_than"} <= proven
    # NaN hides from float bounds (and sorts above 30); the sentinel's 3021 is read as is.
    assert "size:max" not in proven
    assert "started:max" not in proven


@pytest.mark.parametrize(
    "bad",
    [
        {"key": -1},
        {"flag": 2},
        {"size": 0.5},
        {"amount": 0.0},
        {"on": None},
        {"on": dt.date(2030, 1, 1)},
        {"started": dt.date(2030, 1, 1)},
    ],
)
def test_a_broken_rule_is_never_proven_and_quarantines_as_without_statistics(
    tmp_path: Path, bad: dict[str, object]
) -> None:
    rows = [_row(k) for k in range(10)] + [_row(10) | bad]
    files = [_write(tmp_path / "mixed.parquet", rows, row_group_size=4)]
    with_stats, proven = _quarantine(files, use_stats=True)
    without, _ = _quarantine(files, use_stats=False)
    assert with_stats == without
    assert list(with_stats) == [-1 if bad.get("key") == -1 else 10]
    assert not set(with_stats[next(iter(with_stats))]) & proven


def test_a_nan_hidden_from_the_bounds_leaves_the_float_maximum_to_the_engine(
    tmp_path: Path,
) -> None:
    rows = [_row(k) for k in range(10)] + [_row(10, size=math.nan)]
    files = [_write(tmp_path / "nan.parquet", rows)]
    assert parquet_stats(files)["size"].high == 2.0  # the NaN is not in the bounds
    with_stats, proven = _quarantine(files, use_stats=True)
    assert "size:max" not in proven
    assert with_stats == _quarantine(files, use_stats=False)[0]


def test_files_without_statistics_prove_nothing(tmp_path: Path) -> None:
    files = [_write(tmp_path / "bare.parquet", [_row(k) for k in range(5)], write_statistics=False)]
    _, proven = _quarantine(files, use_stats=True)
    assert proven == set()


def test_a_column_of_only_nulls_breaks_no_value_rule() -> None:
    nothing = ColumnStats(rows=3, nulls=3)
    assert nothing.never_below(0)
    assert nothing.never_above(1)
    assert not nothing.never_null()
    unknown = ColumnStats(rows=3, nulls=None)
    assert not unknown.never_below(0)
    assert not unknown.only_integers_in([0, 1])
