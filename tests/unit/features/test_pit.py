"""Point-in-time semantics, one edge case per test."""

from __future__ import annotations

import datetime as dt

import ibis
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from tabship.features.pit import history, whole_years

D = dt.date


def _features(rows: list[tuple[int, int, D, float]]) -> dict[int, dict[str, object]]:
    table = ibis.memtable(
        pa.Table.from_pylist(
            [{"loan_id": r[0], "id": r[1], "day": r[2], "amount": r[3]} for r in rows]
        )
    )
    earlier = history(table, entity="id", event_time="day")
    out = table.select(
        "loan_id",
        n=earlier.count(),
        mean=earlier.mean(table.amount),
        total=earlier.sum(table.amount),
    )
    return {r["loan_id"]: r for r in out.to_pyarrow().to_pylist()}


def test_first_loan_has_no_history_and_a_missing_average() -> None:
    out = _features([(1, 7, D(2020, 1, 1), 100.0)])
    assert out[1]["n"] == 0
    assert out[1]["mean"] is None
    assert out[1]["total"] == 0.0


def test_earlier_loans_are_counted_and_averaged() -> None:
    out = _features(
        [(1, 7, D(2020, 1, 1), 100.0), (2, 7, D(2020, 2, 1), 300.0), (3, 7, D(2020, 3, 1), 0.0)]
    )
    assert [out[i]["n"] for i in (1, 2, 3)] == [0, 1, 2]
    assert out[3]["mean"] == 200.0


def test_same_day_loans_do_not_see_each_other() -> None:
    out = _features(
        [(1, 7, D(2020, 1, 1), 100.0), (2, 7, D(2020, 1, 1), 300.0), (3, 7, D(2020, 1, 5), 50.0)]
    )
    assert out[1]["n"] == out[2]["n"] == 0
    assert out[1]["mean"] is None
    assert out[2]["mean"] is None
    assert out[3]["n"] == 2
    assert out[3]["mean"] == 200.0


def test_events_on_the_same_day_of_a_timestamp_do_not_see_each_other() -> None:
    at = dt.datetime
    table = ibis.memtable(
        pa.table(
            {
                "id": [7, 7, 7],
                "t": [at(2020, 1, 1, 9), at(2020, 1, 1, 17), at(2020, 1, 2, 8)],
                "amount": [100.0, 300.0, 50.0],
            }
        )
    )
    earlier = history(table, entity="id", event_time="t")
    out = table.select(n=earlier.count(), total=earlier.sum(table.amount)).to_pyarrow()
    assert out.sort_by("n").to_pylist() == [
        {"n": 0, "total": 0.0},
        {"n": 0, "total": 0.0},
        {"n": 2, "total": 400.0},
    ]


def test_other_users_loans_never_count() -> None:
    out = _features([(1, 7, D(2020, 1, 1), 100.0), (2, 8, D(2020, 2, 1), 300.0)])
    assert out[2]["n"] == 0


def test_row_order_does_not_change_features() -> None:
    rows = [(1, 7, D(2020, 1, 1), 100.0), (2, 7, D(2020, 1, 1), 300.0), (3, 7, D(2020, 1, 5), 50.0)]
    assert _features(rows) == _features(list(reversed(rows)))


loans = st.lists(
    st.tuples(st.integers(1, 3), st.integers(0, 20), st.floats(100, 900)), min_size=1, max_size=25
)


@settings(max_examples=25, deadline=None)
@given(loans, st.floats(100, 900))
def test_a_later_loan_never_changes_earlier_features(
    rows: list[tuple[int, int, float]], amount: float
) -> None:
    base = [
        (i, user, D(2020, 1, 1) + dt.timedelta(days=day), amt)
        for i, (user, day, amt) in enumerate(rows)
    ]
    last_day = max(r[2] for r in base)
    later = (len(base), base[0][1], last_day + dt.timedelta(days=1), amount)
    before, after = _features(base), _features([*base, later])
    assert all(before[k] == after[k] for k in before)


def _years(start: D | None, at: D) -> object:
    t = ibis.memtable(
        pa.table({"s": pa.array([start], pa.date32()), "a": pa.array([at], pa.date32())})
    )
    return t.select(y=whole_years(t.s, t.a)).to_pyarrow().column("y")[0].as_py()


def test_age_counts_completed_years_at_the_event_date() -> None:
    assert _years(D(1980, 6, 15), D(2020, 6, 14)) == 39
    assert _years(D(1980, 6, 15), D(2020, 6, 15)) == 40


def test_leap_day_birthday_completes_a_year_on_march_first() -> None:
    assert _years(D(2000, 2, 29), D(2021, 2, 28)) == 20
    assert _years(D(2000, 2, 29), D(2021, 3, 1)) == 21


def test_start_after_the_event_gives_missing_not_negative() -> None:
    assert _years(D(2021, 5, 1), D(2020, 1, 1)) is None


def test_missing_start_gives_missing() -> None:
    assert _years(None, D(2020, 1, 1)) is None
