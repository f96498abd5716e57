"""A data contract compiled to row rules, the quarantine's raw material.

Each rule is an Ibis boolean expression, so the contract runs on whichever engine runs
the features (DuckDB or Spark). A row that breaks a rule is quarantined under the rule's
name; values the business uses to mean "unknown" become NULL. The structural part
(required columns, castable types) is checked before any row is read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import ibis
import ibis.expr.datatypes as idt
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tabship.data.file_stats import ColumnStats
from tabship.errors import ContractError
from tabship.usecase.contract import ColumnSpec, Comparison, ContractSpec, DateBound


@dataclass(frozen=True)
class CheckedTable:
    """The raw table typed and normalised, and the rules each row must keep.

    Rules are boolean expressions over ``table`` (true: the row breaks the rule), not
    columns: an engine evaluates them only where asked (the quarantine filter), and a
    reader of the typed data never pays for them.
    """

    table: ir.Table
    rules: dict[str, ir.BooleanValue]
    normalized: dict[str, ir.BooleanValue]
    proven: tuple[str, ...] = ()  # rules the source's statistics show no row breaks
    unique: tuple[str, ...] = ()
    not_null: tuple[str, ...] = ()
    duplicates: dict[str, Duplicates] = field(default_factory=dict)

    def with_known(self, column: str, reference: ir.Table, name: str) -> CheckedTable:
        """Add the rule that ``column`` has a row in ``reference`` (joined by it later)."""
        known = self.table[column].isin(reference[column])
        rule = self.table[column].notnull() & ~known
        return replace(self, rules={**self.rules, f"{column}:known_in_{name}": rule})

    def with_duplicates(self, column: str, found: Duplicates) -> CheckedTable:
        """Add the uniqueness rule of ``column``, given the values that occur twice or more."""
        return replace(self, duplicates={**self.duplicates, column: found})

    @property
    def is_invalid(self) -> ir.BooleanValue:
        """True for rows that break at least one rule."""
        out: ir.BooleanValue = ibis.literal(False)
        for broken in self.rules.values():
            out = out | broken
        for column, found in self.duplicates.items():
            if len(found.values):
                # A semi-join against the (small) set of duplicated values, not a literal list.
                out = out | self.table[column].isin(found.table[column])
        return out

    def invalid_rows(self) -> ir.Table:
        """Rows breaking any rule, values as read, with the row-local rules they break."""
        invalid = self.table.filter(self.is_invalid)
        helpers = {_UNIQUE + c: self.table[c] for c in self.duplicates}
        return invalid.select(**self.as_read(), rules=self.violations(), **helpers)

    def label(self, rows: pa.Table) -> pa.Table:
        """Finish ``invalid_rows()`` once fetched: add the uniqueness rules, and ``rule``
        (the first rule broken, for grouping). In Arrow: a contract tolerates hundreds of
        thousands of bad rows, too many for a Python object each."""
        rules = rows.column("rules").combine_chunks()
        for column, found in self.duplicates.items():
            hit = pc.is_in(rows.column(_UNIQUE + column), value_set=found.values)
            rules = _append_where(rules, hit.to_numpy(zero_copy_only=False), f"{column}:unique")
            rows = rows.drop_columns([_UNIQUE + column])
        index = rows.schema.get_field_index("rules")
        rows = rows.set_column(index, "rules", rules)
        return rows.append_column("rule", pc.list_element(rules, 0))

    def violations(self) -> ir.ArrayValue:
        """The names of the row-local rules a row breaks (empty when valid)."""
        names = [ibis.ifelse(b, n, ibis.null("string")) for n, b in self.rules.items()]
        if not names:
            return ibis.literal([], type="array<string>")
        return ibis.array(names).filter(lambda v: v.notnull())

    def data_columns(self) -> list[str]:
        """The typed, normalised columns (what feature definitions see)."""
        return [c for c in self.table.columns if not c.startswith((_RAW, _UNIQUE))]

    def as_read(self) -> dict[str, ir.Value]:
        """Every data column with the value exactly as read from the source."""
        return {
            c: self.table[_RAW + c] if _RAW + c in self.table.columns else self.table[c]
            for c in self.data_columns()
        }


@dataclass(frozen=True)
class Duplicates:
    """Values of a column found on several rows: as a table the engine can join, and as
    an Arrow array to label fetched rows with."""

    table: ir.Table
    values: pa.Array


_NO_FACTS = ColumnStats(rows=0, nulls=None)  # proves nothing
_RAW = "__read__"
_UNIQUE = "__unique__"
_IBIS_TYPES: dict[str, idt.DataType] = {
    "int64": idt.int64,
    "float64": idt.float64,
    "string": idt.string,
    "date": idt.date,
    "bool": idt.boolean,
}


def _append_where(lists: pa.ListArray, hit: np.ndarray, name: str) -> pa.ListArray:
    """``lists`` with ``name`` appended to the rows where ``hit`` is true."""
    values = lists.flatten()
    lengths = pc.list_value_length(lists).to_numpy(zero_copy_only=False)
    grown = lengths + hit
    offsets = np.zeros(len(lists) + 1, dtype=np.int32)
    np.cumsum(grown, out=offsets[1:])
    # Each old value moves right by the names added to earlier rows; the rest is ``name``.
    take = np.full(offsets[-1], len(values), dtype=np.int64)
    before = np.repeat(offsets[:-1] - (np.cumsum(lengths) - lengths), lengths)
    take[np.arange(len(values)) + before] = np.arange(len(values))
    pool = pa.concat_arrays([values, pa.array([name], values.type)])
    return pa.ListArray.from_arrays(pa.array(offsets), pool.take(take))


def duplicated_values(table: ir.Table, column: str) -> ir.Table:
    """The values of ``column`` found on more than one row (one aggregation)."""
    counted = table.filter(table[column].notnull()).group_by(column).aggregate(n=ibis._.count())
    return counted.filter(counted.n > 1).select(column)


def check_structure(raw: ir.Table, spec: ContractSpec) -> None:
    """Refuse a table whose columns are missing or of a type that cannot hold the declared one."""
    missing = [c for c in spec.columns if c not in raw.columns]
    if missing:
        raise ContractError(f"missing column(s): {', '.join(missing)}")
    for name, col in spec.columns.items():
        found = raw.schema()[name]
        if not _castable(found, _IBIS_TYPES[col.type]):
            raise ContractError(f"column '{name}' has type {found}, expected {col.type}")


def _same_type(source: ir.Value, column_type: str) -> bool:
    """The source column holds the declared type as is (no cast between it and the rules)."""
    return bool(source.type().copy(nullable=True) == _IBIS_TYPES[column_type])


def _castable(found: idt.DataType, wanted: idt.DataType) -> bool:
    if found.is_string() or found.is_null() or found == wanted:
        return True
    if wanted.is_string():  # ids written by pandas as bytes, say: read as text
        return bool(found.is_binary())
    if wanted.is_numeric():
        return bool(found.is_numeric())
    if wanted.is_date():
        return bool(found.is_date() or found.is_timestamp())
    return False


def apply_contract(
    raw: ir.Table,
    spec: ContractSpec,
    today: dt.date,
    stats: Mapping[str, ColumnStats] | None = None,
) -> CheckedTable:
    """Type the raw table, turn unknown-value sentinels into NULL and state every row rule.

    A rule that ``stats`` (facts about the source files, see ``file_stats``) prove no row
    breaks is not stated but listed in ``proven``. Uniqueness needs the whole table: add it
    with ``CheckedTable.with_duplicates``.
    """
    check_structure(raw, spec)
    typed: dict[str, ir.Value] = {}
    as_read: dict[str, ir.Value] = {}
    for name, col in spec.columns.items():
        source, wanted = raw[name], _IBIS_TYPES[col.type]
        value = _typed(source, wanted)
        if col.unknown_values:
            value = ibis.ifelse(_is_unknown(value, col), ibis.null(wanted), value)
        if value is not source:
            as_read[_RAW + name] = source  # kept for the quarantine and the rules
        typed[name] = value
    extra = {c: raw[c] for c in raw.columns if c not in spec.columns}
    table = raw.select(**typed, **extra, **as_read)
    rules: dict[str, ir.BooleanValue] = {}
    normalized: dict[str, ir.BooleanValue] = {}
    proven: list[str] = []
    for name, col in spec.columns.items():
        value = table[name]
        source = table[_RAW + name] if _RAW + name in table.columns else value
        if source.type().is_string() and col.type != "string":
            # Text that does not parse is a broken rule, not a NULL.
            parsed = source.try_cast(_IBIS_TYPES[col.type])
            rules[f"{name}:type"] = source.notnull() & parsed.isnull()
        known: ir.BooleanValue | None = None
        if col.unknown_values:
            # Rules compare the typed value and skip the sentinel: the same verdicts as
            # comparing the NULL it becomes, without a CASE evaluated on every row.
            value = _typed(source, _IBIS_TYPES[col.type])
            normalized[name] = _is_unknown(value, col)  # (text that does not parse is not)
            known = ~normalized[name]
        facts = stats.get(name) if stats and _same_type(raw[name], col.type) else None
        stated, held = _value_rules(name, col, value, source, known, today, facts or _NO_FACTS)
        rules.update(stated)
        proven += held
    for rule in spec.rules:
        rules[rule.name] = ~_compare(table[rule.left], rule.op, table[rule.right])
    # A rule that evaluates to NULL (a missing operand) is not broken; missing values have
    # their own not-null rules. No COALESCE: engines short-circuit plain predicates better.
    return CheckedTable(
        table=table,
        rules=rules,
        normalized=normalized,
        proven=tuple(proven),
        unique=tuple(n for n, c in spec.columns.items() if c.unique),
        not_null=tuple(
            n for n, c in spec.columns.items() if not c.nullable and not c.unknown_values
        ),
    )


def _typed(source: ir.Value, wanted: idt.DataType) -> ir.Value:
    if source.type().is_string() and not wanted.is_string():
        return source.try_cast(wanted)
    if source.type() != wanted:
        return source.cast(wanted)
    return source


def _is_unknown(value: ir.Value, col: ColumnSpec) -> ir.BooleanValue:
    return value.isin([_literal(v, col.type) for v in col.unknown_values or []])


def _value_rules(
    name: str,
    col: ColumnSpec,
    value: ir.Value,
    source: ir.Value,
    known: ir.BooleanValue | None,
    today: dt.date,
    facts: ColumnStats,
) -> tuple[dict[str, ir.BooleanValue], list[str]]:
    """The column's rules, and the names of those ``facts`` prove no row breaks. Value
    rules hold only where ``known`` (when given) is true."""
    stated: dict[str, tuple[ir.BooleanValue, bool]] = {}
    # Facts describe the values as read; a sentinel only turns some of them into NULL.
    if col.min is not None:
        low = _plain(col.min, today)
        stated["min"] = (value < _bound(col.min, today, col.type), facts.never_below(low))
    if col.max is not None:
        high = _plain(col.max, today)
        stated["max"] = (value > _bound(col.max, today, col.type), facts.never_above(high))
    if col.greater_than is not None:
        above = col.greater_than
        stated["greater_than"] = (
            value <= _bound(above, today, col.type),
            facts.always_above(above),
        )
    if col.isin is not None:
        stated["isin"] = (~value.isin(col.isin), facts.only_integers_in(col.isin))
    if known is not None:
        stated = {kind: (rule & known, proven) for kind, (rule, proven) in stated.items()}
    if not col.nullable:
        # A sentinel is a declared "unknown", not a missing value.
        stated["not_null"] = (source.isnull(), facts.never_null())
    rules = {f"{name}:{kind}": rule for kind, (rule, proven) in stated.items() if not proven}
    return rules, [f"{name}:{kind}" for kind, (_, proven) in stated.items() if proven]


def _plain(bound: float | DateBound, today: dt.date) -> float | dt.date:
    return today if bound == "today" else bound


def _bound(bound: float | DateBound | None, today: dt.date, column_type: str) -> object:
    """A bound as a literal of the column's type: an integer column compared with a float
    would be converted on every row (and compared inexactly)."""
    if (
        isinstance(bound, float)
        and column_type == "int64"
        and bound.is_integer()
        and abs(bound) < 2**62
    ):
        return ibis.literal(int(bound), type="int64")
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
