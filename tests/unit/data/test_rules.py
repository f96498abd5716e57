"""The contract flags each broken rule by name, types text, and turns sentinels into NULL."""

from __future__ import annotations

import datetime as dt

import ibis
import pyarrow as pa
import pytest

from tabship.data.rules import Duplicates, apply_contract, duplicated_values
from tabship.errors import ContractError
from tabship.usecase.contract import ColumnSpec, ContractSpec, CrossRule

TODAY = dt.date(2021, 10, 1)
SPEC = ContractSpec(
    columns={
        "key": ColumnSpec(type="int64", nullable=False, unique=True),
        "amount": ColumnSpec(type="float64", nullable=False, greater_than=0),
        "flag": ColumnSpec(type="string", isin=["Y", "N"]),
        "born": ColumnSpec(type="date", nullable=False, max="today"),
        "started": ColumnSpec(type="date", max="today", unknown_values=[dt.date(3021, 9, 18)]),
        "on": ColumnSpec(type="date", nullable=False),
    },
    rules=[CrossRule(name="born_before", left="born", op="<", right="on")],
)


def _rules_by_key(table: pa.Table) -> dict[int, list[str]]:
    checked = apply_contract(ibis.memtable(table), SPEC, TODAY)
    for column in checked.unique:
        found = duplicated_values(checked.table, column).to_pyarrow()
        dupes = Duplicates(ibis.memtable(found), found.column(0).combine_chunks())
        checked = checked.with_duplicates(column, dupes)
    invalid = checked.label(checked.invalid_rows().to_pyarrow())
    broken = {int(r["key"]): sorted(r["rules"]) for r in invalid.to_pylist()}
    keys = [int(k) for k in table.column("key").to_pylist()]
    return {k: broken.get(k, []) for k in keys}


def _row(key: int, **overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "key": str(key),
        "amount": "10.5",
        "flag": "Y",
        "born": "1980-01-01",
        "started": "2010-01-01",
        "on": "2020-01-01",
    }
    row.update(overrides)
    return row


def _table(*rows: dict[str, object]) -> pa.Table:
    return pa.Table.from_pylist(
        list(rows), schema=pa.schema([(c, pa.string()) for c in SPEC.columns])
    )


def test_valid_rows_break_no_rule() -> None:
    assert _rules_by_key(_table(_row(1), _row(2))) == {1: [], 2: []}


def test_each_broken_rule_is_named() -> None:
    rules = _rules_by_key(
        _table(
            _row(1, amount="-3"),
            _row(2, amount="abc"),
            _row(3, flag="yes"),
            _row(4, born="2030-01-01"),
            _row(5, born="2020-06-01"),
            _row(6, on=None),
        )
    )
    assert rules[1] == ["amount:greater_than"]
    assert rules[2] == ["amount:type"]
    assert rules[3] == ["flag:isin"]
    assert rules[4] == ["born:max", "born_before"]
    assert rules[5] == ["born_before"]
    assert rules[6] == ["on:not_null"]


def test_duplicate_keys_break_uniqueness_on_every_copy() -> None:
    rules = _rules_by_key(_table(_row(1), _row(1), _row(2)))
    assert rules == {1: ["key:unique"], 2: []}


def test_uniqueness_is_added_to_the_rules_each_copy_already_breaks() -> None:
    rows = _table(
        _row(1, amount="-3", flag="yes"),
        _row(2, flag="yes"),
        _row(1),
        _row(3, born="2030-01-01"),
        _row(3, amount="-1"),
    )
    checked = apply_contract(ibis.memtable(rows), SPEC, TODAY)
    found = duplicated_values(checked.table, "key").to_pyarrow()
    dupes = Duplicates(ibis.memtable(found), found.column(0).combine_chunks())
    checked = checked.with_duplicates("key", dupes)
    labelled = checked.label(checked.invalid_rows().to_pyarrow()).to_pylist()
    by_copy = sorted((r["key"], r["amount"], r["rule"], r["rules"]) for r in labelled)
    assert by_copy == [
        ("1", "-3", "amount:greater_than", ["amount:greater_than", "flag:isin", "key:unique"]),
        ("1", "10.5", "key:unique", ["key:unique"]),
        ("2", "10.5", "flag:isin", ["flag:isin"]),
        ("3", "-1", "amount:greater_than", ["amount:greater_than", "key:unique"]),
        ("3", "10.5", "born:max", ["born:max", "born_before", "key:unique"]),
    ]


def test_a_sentinel_past_a_bound_breaks_no_rule_but_a_real_value_does() -> None:
    rules = _rules_by_key(
        _table(_row(1, started="3021-09-18"), _row(2, started="2030-01-01"), _row(3, started=None))
    )
    assert rules == {1: [], 2: ["started:max"], 3: []}


def test_unknown_sentinel_becomes_missing_and_is_not_a_violation() -> None:
    checked = apply_contract(
        ibis.memtable(_table(_row(1, started="3021-09-18"), _row(2))), SPEC, TODAY
    )
    out = checked.table.select("key", "started", bad=checked.is_invalid).to_pyarrow().to_pylist()
    by_key = {r["key"]: r for r in out}
    assert by_key[1]["started"] is None
    assert by_key[2]["started"] == dt.date(2010, 1, 1)
    assert not by_key[1]["bad"]
    counts = checked.table.aggregate(n=checked.normalized["started"].cast("int64").sum())
    assert counts.to_pyarrow().to_pylist() == [{"n": 1}]


def test_only_the_sentinel_counts_as_normalized_not_text_that_does_not_parse() -> None:
    rows = _table(_row(1, started="3021-09-18"), _row(2, started="someday"), _row(3, started=None))
    checked = apply_contract(ibis.memtable(rows), SPEC, TODAY)
    counts = checked.table.aggregate(n=checked.normalized["started"].cast("int64").sum())
    assert counts.to_pyarrow().to_pylist() == [{"n": 1}]
    assert _rules_by_key(rows)[2] == ["started:type"]


def test_missing_column_is_refused_by_name() -> None:
    table = _table(_row(1)).drop_columns(["flag", "on"])
    with pytest.raises(ContractError, match="missing column\\(s\\): flag, on"):
        apply_contract(ibis.memtable(table), SPEC, TODAY)


def test_column_of_an_impossible_type_is_refused_by_name() -> None:
    table = _table(_row(1)).set_column(3, "born", pa.array([True]))
    with pytest.raises(ContractError, match="column 'born' has type boolean, expected date"):
        apply_contract(ibis.memtable(table), SPEC, TODAY)


def test_bounds_must_fit_the_column_type() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        ColumnSpec(type="float64", max="today")
