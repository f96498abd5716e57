"""Definitions that keep to each entity's rows are recognised; anything that could mix
entities (or lose the row key) is not, so quarantined rows are removed before it runs."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from tabship.features.locality import entity_local
from tabship.features.pit import history, whole_years

LOANS = ibis.table(
    {"loan_id": "int64", "id": "int64", "on": "date", "born": "date", "amount": "float64"},
    name="loans",
)


def _local(out: ir.Table) -> bool:
    return entity_local(out, LOANS, entity="id", key="loan_id")


def test_point_in_time_history_and_row_local_values_are_entity_local() -> None:
    earlier = history(LOANS, entity="id", event_time="on")
    out = LOANS.select(
        "loan_id",
        "id",
        n=earlier.count(),
        avg=earlier.mean(LOANS.amount),
        age=whole_years(LOANS.born, LOANS.on),
    )
    assert _local(out)
    assert _local(out.filter(out.n > 0).mutate(twice=ibis._.n * 2))


def test_windows_over_other_partitions_or_the_whole_table_are_not() -> None:
    by_day = ibis.window(group_by=LOANS.on)
    assert not _local(LOANS.select("loan_id", n=LOANS.count().over(by_day)))
    assert not _local(LOANS.select("loan_id", share=LOANS.amount / LOANS.amount.sum()))


def test_joins_groupings_and_subqueries_are_not() -> None:
    totals = LOANS.group_by("id").aggregate(total=LOANS.amount.sum())
    assert not _local(LOANS.join(totals, "id").select("loan_id", "id", "total"))
    assert not _local(LOANS.select("loan_id", big=LOANS.amount > LOANS.amount.mean()))
    assert not _local(LOANS.filter(LOANS.id.isin(LOANS.filter(LOANS.amount > 9).id)))


def test_the_row_key_must_come_through_unchanged() -> None:
    assert not _local(LOANS.select("id", loan_id=LOANS.loan_id + 1))
    assert not _local(LOANS.select("id", "amount"))
