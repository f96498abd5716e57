"""The data contract of a raw table, as a use case declares it (``contract:`` in YAML).

Plain models, no engine: loading a declaration stays cheap. ``tabship.data.rules``
compiles a contract into row rules; ``tabship.data.pandera_schema`` into a pandera schema.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Literal

from pydantic import Field, model_validator

from tabship.errors import UseCaseError
from tabship.usecase.base import Strict

ColumnType = Literal["int64", "float64", "string", "date", "bool"]
Comparison = Literal["<", "<=", ">", ">=", "==", "!="]
DateBound = dt.date | Literal["today"]


class ColumnSpec(Strict):
    """One raw column: its type and the values it may take."""

    type: ColumnType
    nullable: bool = True
    unique: bool = False
    min: float | DateBound | None = Field(None, description="Inclusive lower bound.")
    max: float | DateBound | None = Field(None, description="Inclusive upper bound.")
    greater_than: float | None = Field(None, description="Exclusive lower bound.")
    isin: list[str | int] | None = None
    unknown_values: list[str | float | dt.date] = Field(
        default_factory=list, description="Sentinels meaning 'unknown': turned into NULL."
    )

    @model_validator(mode="after")
    def _bounds_fit_type(self) -> ColumnSpec:
        for bound in (self.min, self.max):
            is_date = isinstance(bound, dt.date) or bound == "today"
            if bound is not None and is_date != (self.type == "date"):
                raise ValueError(f"bound {bound!r} does not fit a {self.type} column")
        return self


class CrossRule(Strict):
    """A rule between two columns of the same row, e.g. born before the loan."""

    name: str
    left: str
    op: Comparison
    right: str


class ContractSpec(Strict):
    """What the raw table must look like."""

    columns: dict[str, ColumnSpec] = Field(min_length=1)
    rules: list[CrossRule] = Field(default_factory=list)
    max_invalid_share: float = Field(0.05, ge=0, le=1)

    def check_refers_to(self, names: Iterable[str]) -> None:
        """Fail early when the declaration names a column the contract does not declare."""
        referenced = set(names) | {r.left for r in self.rules} | {r.right for r in self.rules}
        unknown = sorted(referenced - set(self.columns))
        if unknown:
            raise UseCaseError(f"contract does not declare column(s): {', '.join(unknown)}")
