"""The same data contract as a pandera schema, for pandas frames in notebooks.

A data scientist exploring a file validates it with exactly the rules the pipeline
enforces: ``to_pandera(usecase.contract).validate(df, lazy=True)``. Each check carries the
rule name the quarantine uses, so both tell the same story (a test holds them to it).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pandera.pandas as pa

from tabship.usecase.contract import ColumnSpec, ContractSpec, CrossRule

_DTYPES = {
    "int64": "Int64",
    "float64": "float64",
    "string": "str",
    "date": "datetime64[ms]",
    "bool": "boolean",
}
# pandera's own names for the rules it builds in.
PANDERA_RULES = {"not_nullable": "not_null", "field_uniqueness": "unique"}


def _bound(value: float | dt.date | str | None, today: dt.date) -> Any:
    if value == "today":
        return pd.Timestamp(today)
    if isinstance(value, dt.date):
        return pd.Timestamp(value)
    return value


def _column(name: str, col: ColumnSpec, today: dt.date) -> pa.Column:
    # Vectorised checks named as the quarantine names them (pandera's built-ins would be
    # named after their arguments); missing values are left to the nullable rule.
    low, high, above = _bound(col.min, today), _bound(col.max, today), col.greater_than
    checks = [
        pa.Check(test, name=f"{name}:{rule}")
        for rule, arg, test in (
            ("min", low, lambda s: s >= low),
            ("max", high, lambda s: s <= high),
            ("greater_than", above, lambda s: s > above),
            ("isin", col.isin, lambda s: s.isin(col.isin or [])),
        )
        if arg is not None
    ]
    parsers = []
    if col.unknown_values:
        unknown = [pd.Timestamp(v) if col.type == "date" else v for v in col.unknown_values]
        parsers.append(pa.Parser(lambda s: s.mask(s.isin(unknown))))
    return pa.Column(
        _DTYPES[col.type],
        checks=checks,
        parsers=parsers,
        nullable=col.nullable or bool(col.unknown_values),
        unique=col.unique,
        coerce=True,
    )


def _cross(rule: CrossRule) -> pa.Check:
    ops = {
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
        "==": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
    }

    def holds(df: pd.DataFrame) -> pd.Series:
        left, right = df[rule.left], df[rule.right]
        kept: pd.Series = ops[rule.op](left, right) | left.isna() | right.isna()
        return kept

    return pa.Check(holds, name=rule.name)


def to_pandera(spec: ContractSpec, today: dt.date | None = None) -> pa.DataFrameSchema:
    """The contract as a pandera ``DataFrameSchema`` (columns coerced to their types)."""
    when = today or dt.date.today()
    return pa.DataFrameSchema(
        {name: _column(name, col, when) for name, col in spec.columns.items()},
        checks=[_cross(rule) for rule in spec.rules],
        strict=False,
    )


def rule_name(column: str | None, check: str) -> str:
    """The quarantine's name for a pandera failure (column + check)."""
    if check in PANDERA_RULES:
        return f"{column}:{PANDERA_RULES[check]}"
    return check
