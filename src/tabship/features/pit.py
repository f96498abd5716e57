"""Point-in-time feature primitives, written once in Ibis and run on any engine.

"As of an event" means: only facts whose event time is strictly before the event's own
time count. Event times are days (a timestamp counts by its date), so the order of two
events on the same day is unknown; neither may see the other (no same-day leakage,
whatever the row order).

Sums run in exact arithmetic on values rounded to ``decimals`` places (6 by default: a
millionth of a currency unit), so every engine returns the same bits whatever order it
adds rows in.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir


@dataclass(frozen=True)
class History:
    """An entity's earlier events, seen from each event of a table."""

    table: ir.Table
    entity: str
    event_time: str

    def _earlier_days(self) -> ibis.expr.builders.LegacyWindowBuilder:
        # One RANGE frame over day numbers: every event of the entity up to the day before.
        # A single frame lets the engine sort once for all aggregates (two frames, "up to
        # today" minus "today", sort twice and took a third longer in DuckDB).
        time = self.table[self.event_time]
        day = time if time.type().is_date() else time.date()
        return ibis.window(
            group_by=self.table[self.entity], order_by=day.epoch_days(), range=(None, -1)
        )

    def count(self) -> ir.IntegerValue:
        """Number of the entity's events strictly before this event's day."""
        return self.table.count().over(self._earlier_days())

    def _units(self, value: ir.NumericColumn, decimals: int) -> ir.FloatingValue:
        """Exact sum, in units of 10**-decimals, of the entity's strictly earlier values.

        Units are whole numbers held in doubles: sums stay exact below 2**53 units
        (9e9 at 6 decimals), whatever order an engine adds them in, and doubles keep the
        window as cheap as a plain sum.
        """
        units = _round_double(value.cast("float64") * 10**decimals, 0)
        return units.sum().over(self._earlier_days())

    def sum(self, value: ir.NumericColumn, decimals: int = 6) -> ir.FloatingValue:
        """Sum of ``value`` over the entity's events strictly before this event's day (0
        when there is none)."""
        return (self._units(value, decimals) / 10**decimals).coalesce(0.0)

    def mean(self, value: ir.NumericColumn, decimals: int = 6) -> ir.FloatingValue:
        """Mean of ``value`` over earlier events; NULL when there is none.

        A column typed NOT NULL (the contract guarantees it) is counted with the cheaper
        COUNT(*); otherwise only non-missing values count.
        """
        if value.type().nullable:
            earlier = value.count().over(self._earlier_days())
        else:
            earlier = self.count()
        # Without an earlier value the SUM is NULL, and so is the mean: no guard needed.
        return self._units(value, decimals) / 10**decimals / earlier


@ibis.udf.scalar.builtin(name="round")  # type: ignore[untyped-decorator]
def _round_double(value: float, digits: int) -> float:  # type: ignore[empty-body]
    """The engine's own ROUND(x, d), which keeps a double a double (DuckDB and Spark both
    round half away from zero). Ibis types ``round`` as an integer, and the casts to
    BIGINT and back cost as much as the rounding."""


def history(table: ir.Table, entity: str, event_time: str) -> History:
    """The per-event view of each entity's earlier events."""
    return History(table=table, entity=entity, event_time=event_time)


def whole_years(start: ir.DateValue, at: ir.DateValue) -> ir.IntegerValue:
    """Completed calendar years from ``start`` to ``at`` (a birthday counts on its day).

    NULL when either date is NULL or when ``start`` is after ``at``: at that moment the
    thing had not started yet, so its duration is unknown, not negative.
    """
    years = at.year() - start.year()
    before_anniversary = (at.month() * 100 + at.day()) < (start.month() * 100 + start.day())
    completed = years - before_anniversary.cast("int64")
    return ibis.ifelse(start <= at, completed, ibis.null("int64"))
