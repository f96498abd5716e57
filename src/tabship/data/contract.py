"""The data contract of a raw table, declared in the use case, compiled to row rules.

Each rule is an Ibis boolean expression, so the contract runs on whichever engine runs
the features (DuckDB or Spark) in the same scan. A row that breaks a rule is quarantined
under the rule's name; values the business uses to mean "unknown" become NULL.
The structural part (required columns, castable types) is checked before any row is read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import ibis
import ibis.expr.datatypes as idt
import ibis.expr.types as ir
from pydantic import BaseModel, ConfigDict, Field, model_validator

from tabship.errors import ContractError, UseCaseError

ColumnType = Literal["int64", "float64", "string", "date", "bool"]
Comparison = Literal["<", "<=", ">", ">=", "==", "!="]
DateBound = dt.date | Literal["today"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(_Strict):
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


class CrossRule(_Strict):
    """A rule between two columns of the same row, e.g. born before the loan."""

    name: str
    left: str
    op: Comparison
    right: str


class ContractSpec(_Strict):
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


@dataclass(frozen=True)
class CheckedTable:
    """The raw table typed and normalised, with one boolean column per broken rule.

    ``typed`` holds the typed columns and every row-local rule; ``table`` adds the rules
    that look across rows (uniqueness), so a reader that needs no flags reads ``typed``.
    """

    table: ir.Table
    rule_names: list[str]
    normalized: dict[str, ir.BooleanValue]
    typed: ir.Table | None = None

    @property
    def violations(self) -> ir.ArrayValue:
        """The names of the rules a row breaks (empty when valid)."""
        flags = [ibis.ifelse(self.table[_flag(n)], n, ibis.null("string")) for n in self.rule_names]
        if not flags:
            return ibis.literal([], type="array<string>")
        return ibis.array(flags).filter(lambda v: v.notnull())

    @property
    def is_invalid(self) -> ir.BooleanValue:
        out: ir.BooleanValue = ibis.literal(False)
        for name in self.rule_names:
            out = out | self.table[_flag(name)]
        return out

    def data_columns(self) -> list[str]:
        """The typed, normalised columns (what feature definitions see)."""
        return [c for c in self.table.columns if not c.startswith(("__rule__", _RAW))]

    def as_read(self) -> dict[str, ir.Value]:
        """Every data column with the value exactly as read from the source."""
        return {
            c: self.table[_RAW + c] if _RAW + c in self.table.columns else self.table[c]
            for c in self.data_columns()
        }


_FLAG = "__rule__"
_RAW = "__read__"
_IBIS_TYPES: dict[str, idt.DataType] = {
    "int64": idt.int64,
    "float64": idt.float64,
    "string": idt.string,
    "date": idt.date,
    "bool": idt.boolean,
}


def _flag(rule: str) -> str:
    return _FLAG + rule


def check_structure(raw: ir.Table, spec: ContractSpec) -> None:
    """Refuse a table whose columns are missing or of a type that cannot hold the declared one."""
    missing = [c for c in spec.columns if c not in raw.columns]
    if missing:
        raise ContractError(f"missing column(s): {', '.join(missing)}")
    for name, col in spec.columns.items():
        found = raw.schema()[name]
        if not _castable(found, _IBIS_TYPES[col.type]):
            raise ContractError(f"column '{name}' has type {found}, expected {col.type}")


def _castable(found: idt.DataType, wanted: idt.DataType) -> bool:
    if found.is_string() or found.is_null() or found == wanted:
        return True
    if wanted.is_numeric():
        return bool(found.is_numeric())
    if wanted.is_date():
        return bool(found.is_date() or found.is_timestamp())
    return False


def apply_contract(raw: ir.Table, spec: ContractSpec, today: dt.date) -> CheckedTable:
    """Type the raw table, turn unknown-value sentinels into NULL and flag every broken rule."""
    check_structure(raw, spec)
    typed: dict[str, ir.Value] = {}
    flags: dict[str, ir.BooleanValue] = {}
    normalized: dict[str, ir.BooleanValue] = {}
    for name, col in spec.columns.items():
        source = raw[name]
        value = source.try_cast(_IBIS_TYPES[col.type]) if source.type().is_string() else source
        if not source.type().is_string() and source.type() != _IBIS_TYPES[col.type]:
            value = source.cast(_IBIS_TYPES[col.type])
        flags[f"{name}:type"] = source.notnull() & value.isnull()
        if col.unknown_values:
            is_unknown = value.isin([_literal(v, col.type) for v in col.unknown_values])
            normalized[name] = is_unknown.fill_null(False)
            value = ibis.ifelse(is_unknown, ibis.null(_IBIS_TYPES[col.type]), value)
        typed[name] = value
        flags.update(_value_rules(name, col, value, source, today))
    for rule in spec.rules:
        left, right = typed[rule.left], typed[rule.right]
        flags[rule.name] = ~_compare(left, rule.op, right).fill_null(True)
    extra = {c: raw[c] for c in raw.columns if c not in spec.columns}
    # Keep what was read where typing or normalising changed it, for the quarantine.
    as_read = {
        _RAW + c: raw[c]
        for c, col in spec.columns.items()
        if raw[c].type() != _IBIS_TYPES[col.type] or col.unknown_values
    }
    row_local = raw.select(
        **typed,
        **extra,
        **as_read,
        **{_flag(k): v.fill_null(False) for k, v in flags.items()},
    )
    table, unique_rules = _flag_duplicates(
        row_local, [n for n, c in spec.columns.items() if c.unique]
    )
    return CheckedTable(
        table=table,
        rule_names=[*flags, *unique_rules],
        normalized=normalized,
        typed=row_local,
    )


def _flag_duplicates(table: ir.Table, columns: list[str]) -> tuple[ir.Table, list[str]]:
    """Flag every copy of a duplicated value: one aggregation and a join per column
    (cheaper than a window over all rows, and portable to every engine)."""
    rules = []
    for name in columns:
        flag = _flag(f"{name}:unique")
        dupes = (
            table.filter(table[name].notnull())
            .group_by(name)
            .aggregate(__copies=ibis._.count())
            .filter(ibis._.__copies > 1)
            .select(name, **{flag: ibis.literal(True)})
        )
        joined = table.left_join(dupes, name)
        table = joined.select(*table.columns, **{flag: joined[flag].fill_null(False)})
        rules.append(f"{name}:unique")
    return table, rules


def _value_rules(
    name: str, col: ColumnSpec, value: ir.Value, source: ir.Value, today: dt.date
) -> dict[str, ir.BooleanValue]:
    rules: dict[str, ir.BooleanValue] = {}
    if not col.nullable:
        # A sentinel is a declared "unknown", not a missing value.
        rules[f"{name}:not_null"] = source.isnull()
    low = _bound(col.min, today)
    high = _bound(col.max, today)
    if low is not None:
        rules[f"{name}:min"] = value < low
    if high is not None:
        rules[f"{name}:max"] = value > high
    if col.greater_than is not None:
        rules[f"{name}:greater_than"] = value <= col.greater_than
    if col.isin is not None:
        rules[f"{name}:isin"] = ~value.isin(col.isin)
    return rules


def _bound(bound: float | DateBound | None, today: dt.date) -> object:
    if bound == "today":
        return ibis.date(today)
    if isinstance(bound, dt.date):
        return ibis.date(bound)
    return bound


def _literal(value: str | float | dt.date, column_type: str) -> ir.Value:
    if column_type == "date":
        return ibis.date(dt.date.fromisoformat(str(value)))
    return ibis.literal(value).cast(_IBIS_TYPES[column_type])


def _compare(left: ir.Value, op: Comparison, right: ir.Value) -> ir.BooleanValue:
    ops = {
        "<": left.__lt__,
        "<=": left.__le__,
        ">": left.__gt__,
        ">=": left.__ge__,
        "==": left.__eq__,
        "!=": left.__ne__,
    }
    return ops[op](right)
