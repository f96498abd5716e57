"""Features of every entity as of one date: the rows a nightly scoring of a whole book needs.

Each entity gets one probe row: a copy of its latest row before the date, moved to the date.
The definitions then compute the probe like any row, point in time: from the entity's rows
strictly before the date's day, with its own columns (a birthday, a car) as its latest row
says. Rows on or after the date are left out: as of the date they have not happened.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from tabship.errors import UseCaseError
from tabship.usecase import UseCase

_RANK = "__tabship_rank"


@dataclass(frozen=True)
class AsOf:
    """A date to compute every entity's features at, for a use case with event times."""

    usecase: UseCase
    date: dt.date

    def __post_init__(self) -> None:
        if self.usecase.event_time is None:
            raise UseCaseError(
                f"{self.usecase.name} declares no event time: its rows have no date to be "
                "as of (score them as they are, without --as-of)"
            )

    @property
    def _time(self) -> str:
        assert self.usecase.event_time is not None
        return self.usecase.event_time

    def _at(self, rows: ir.Table) -> ir.Value:
        """The date as a value of the event-time column's type (midnight for a timestamp)."""
        return ibis.literal(self.date).cast(rows[self._time].type())

    def rows(self, valid: ir.Table) -> ir.Table:
        """The valid rows before the date, and one probe per entity at the date."""
        time, entity, key = self._time, self.usecase.entity, self.usecase.row_key
        before = valid.filter(valid[time] < self._at(valid))
        rank = ibis.row_number().over(
            group_by=before[entity], order_by=[before[time].desc(), before[key].desc()]
        )
        ranked = before.mutate(**{_RANK: rank})
        latest = ranked.filter(ranked[_RANK] == 0).drop(_RANK)
        probes = latest.mutate(**{time: self._at(latest)})
        return before.union(probes)

    def keep(self, out: ir.Table) -> ir.Table:
        """Only the probes' features: the rows at the date."""
        return out.filter(out[self._time] == self._at(out))
