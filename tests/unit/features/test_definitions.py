"""The history keeps what other rows' features read: the inputs of windows and of the row
filters before them, traced through projections, with the keys; what only a row's own
features read is left out (an incremental build fills it with NULL for stored rows)."""

from __future__ import annotations

from pathlib import Path

import ibis

from tabship.features.definitions import history_columns
from tabship.features.pit import history, whole_years
from tabship.usecase import load_usecase

REPO = Path(__file__).resolve().parents[3]
LOANS = ibis.table(
    {
        "loan_id": "int64",
        "id": "int64",
        "on": "date",
        "born": "date",
        "amount": "float64",
        "fee": "float64",
        "kind": "string",
        "car": "string",
        "unused": "int64",
    },
    name="loans",
)


def _usecase():  # credit_risk's keys are loan_id, id and the event time
    usecase = load_usecase("credit_risk", REPO / "examples")
    return usecase.model_copy(update={"event_time": "on"})


def test_credit_risk_keeps_the_window_inputs_and_keys_only() -> None:
    usecase = load_usecase("credit_risk", REPO / "examples")
    rows = ibis.table({c: spec.type for c, spec in usecase.contract.columns.items()}, name="loans")
    out = usecase.load_callable(usecase.feature_view.definitions)(rows)
    columns = history_columns(usecase, rows, out)
    assert set(columns.read) == {
        "loan_id", "id", "loan_date", "loan_amount",
        "birthday", "job_start_date", "flag_own_car", "status",
    }  # fmt: skip
    assert columns.kept == ["loan_id", "id", "loan_date", "loan_amount"]


def test_inputs_reach_the_history_through_projections_and_filters() -> None:
    derived = LOANS.mutate(total=LOANS.amount + LOANS.fee)
    kept = derived.filter(derived.kind != "refund")
    earlier = history(kept, entity="id", event_time="on")
    out = kept.select(
        "loan_id",
        "id",
        "on",
        spent=earlier.sum(kept.total),
        age=whole_years(kept.born, kept.on),
        car=kept.car == "Y",
    )
    columns = history_columns(_usecase(), LOANS, out)
    assert {"born", "car"} <= set(columns.read)  # (a mutate passes every column through)
    assert set(columns.kept) == {"loan_id", "id", "on", "amount", "fee", "kind"}


def test_a_row_local_definition_keeps_only_the_keys() -> None:
    out = LOANS.select("loan_id", "id", "on", big=LOANS.amount > 100)
    columns = history_columns(_usecase(), LOANS, out)
    assert "amount" in columns.read
    assert set(columns.kept) == {"loan_id", "id", "on"}


def test_a_relation_it_cannot_trace_keeps_everything_read() -> None:
    totals = LOANS.group_by("id").aggregate(total=LOANS.amount.sum())
    joined = LOANS.join(totals, "id")
    out = joined.select("loan_id", "id", "on", n=joined.total.count().over(group_by="id"))
    columns = history_columns(_usecase(), LOANS, out)
    assert columns.kept == columns.read
