"""Counting duplicates of a dense integer key finds exactly what grouping finds."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import ibis
import numpy as np
import pyarrow as pa
import pytest

from tabship.features.dense_keys import _int64_chunks, _repeated, dense_duplicates
from tabship.features.engine import DuckDBEngine
from tabship.settings import Settings


@pytest.fixture
def engine(tmp_path: Path) -> DuckDBEngine:
    return DuckDBEngine(Settings(home=tmp_path))


def _expected(values: list[int | None]) -> list[int]:
    counts = Counter(v for v in values if v is not None)
    return sorted(v for v, n in counts.items() if n > 1)


def _found(engine: DuckDBEngine, table: pa.Table) -> list[int] | None:
    count = dense_duplicates(engine.to_arrow, ibis.memtable(table), "key")
    return None if count is None else sorted(count().column("key").to_pylist())


def test_finds_every_value_seen_twice_or_more(engine: DuckDBEngine) -> None:
    rng = np.random.default_rng(3)
    values: list[int | None] = [int(v) for v in rng.integers(-500, 4_000, size=5_000)]
    values[::97] = [None] * len(values[::97])
    table = pa.table({"key": pa.array(values, pa.int64())})
    assert _found(engine, table) == _expected(values)


def test_keeps_the_key_type(engine: DuckDBEngine) -> None:
    table = pa.table({"key": pa.array([7, 8, 7, 9, 9, 9], pa.int32())})
    count = dense_duplicates(engine.to_arrow, ibis.memtable(table), "key")
    assert count is not None
    found = count()
    assert found.schema.field("key").type == pa.int32()
    assert sorted(found.column("key").to_pylist()) == [7, 9]


def test_unique_and_empty_keys_have_no_duplicates(engine: DuckDBEngine) -> None:
    assert _found(engine, pa.table({"key": pa.array(range(10_000), pa.int64())})) == []
    assert _found(engine, pa.table({"key": pa.array([None, None], pa.int64())})) == []


def test_sorts_few_sparse_keys_and_leaves_many_and_text_keys_to_grouping(
    engine: DuckDBEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tabship.features import dense_keys

    sparse = pa.table({"key": pa.array([1, 10**12, 1], pa.int64())})
    assert _found(engine, sparse) == [1]
    monkeypatch.setattr(dense_keys, "MAX_SORTED", 2)
    assert _found(engine, sparse) is None
    huge = pa.table({"key": pa.array([2**64 - 1, 2**64 - 1], pa.uint64())})
    assert _found(engine, huge) is None
    text = pa.table({"key": pa.array(["a", "b", "a"])})
    assert dense_duplicates(engine.to_arrow, ibis.memtable(text), "key") is None
    # The engine falls back to grouping, with the same answer.
    found = engine.duplicated_values(ibis.memtable(sparse), "key").result()
    assert found.column("key").to_pylist() == [1]


def test_the_engine_counts_dense_keys_off_its_connection(engine: DuckDBEngine) -> None:
    keys = pa.table({"key": pa.array([4, 5, 4, 6], pa.int64())})
    pending = engine.duplicated_values(ibis.memtable(keys), "key")
    # The key is read already: the connection answers other queries while numpy counts.
    assert engine.to_arrow(ibis.memtable(keys).count().as_table()).column(0)[0].as_py() == 4
    assert pending.result().column("key").to_pylist() == [4]


def test_leaves_more_keys_than_the_cap_to_grouping(
    engine: DuckDBEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tabship.features import dense_keys

    monkeypatch.setattr(dense_keys, "MAX_SPAN", 8)
    monkeypatch.setattr(dense_keys, "MAX_SORTED", 8)
    assert _found(engine, pa.table({"key": pa.array(range(8), pa.int64())})) == []
    assert _found(engine, pa.table({"key": pa.array([*range(8), 3], pa.int64())})) is None


def test_reads_sliced_chunks_at_their_offsets() -> None:
    whole = pa.array(np.arange(20, dtype=np.int64))
    chunked = pa.chunked_array([whole.slice(3, 5), whole.slice(12, 4), whole.slice(0, 0)])
    assert np.concatenate(_int64_chunks(chunked)).tolist() == [3, 4, 5, 6, 7, 12, 13, 14, 15]


@pytest.mark.parametrize("gap", [1, 250, 251, 502])
def test_finds_a_repeat_whatever_the_distance_between_its_rows(gap: int) -> None:
    keys = np.arange(2_000, dtype=np.int64)
    keys[100 + gap] = keys[100]
    keys[1_500] = keys[3]
    found = _repeated([keys[:700], keys[700:]], 0, 2_000)
    assert found.tolist() == sorted({int(keys[100]), int(keys[3])})


def test_a_key_repeated_many_times_is_found_once() -> None:
    keys = np.array([5, 5, 5, 5, 1, 2, 5], dtype=np.int64)
    assert _repeated([keys], 0, 6).tolist() == [5]


@pytest.mark.parametrize("share", [0.001, 0.6])
def test_names_exactly_the_repeats_among_many_chunks(share: float) -> None:
    """Few repeats are named from their crowded buckets; many, by counting every value."""
    rng = np.random.default_rng(11)
    keys = rng.permutation(50_000).astype(np.int64) + 1_000
    repeat = rng.random(len(keys)) < share
    keys[repeat] = rng.choice(keys[~repeat], size=int(repeat.sum()))
    parts = np.array_split(keys, 7)
    found = _repeated(parts, 1_000, 50_000) + 1_000
    counts = Counter(keys.tolist())
    assert found.tolist() == sorted(k for k, n in counts.items() if n > 1)
