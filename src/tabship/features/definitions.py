"""The use case's feature definitions applied to a table, and what they read from it."""

from __future__ import annotations

import ibis.expr.operations as ops
import ibis.expr.types as ir

from tabship.errors import UseCaseError
from tabship.usecase import UseCase


def feature_expression(usecase: UseCase, valid: ir.Table) -> ir.Table:
    """Apply the use case's definitions (or take the declared columns as they are) and
    check they produce the declared view."""
    if usecase.feature_view.definitions is None:
        return valid
    definitions = usecase.load_callable(usecase.feature_view.definitions)
    out = definitions(valid)
    if not isinstance(out, ir.Table):
        raise UseCaseError(f"{usecase.name}: feature definitions must return an Ibis table")
    missing = [c for c in usecase.keys + usecase.feature_view.features if c not in out.columns]
    if missing:
        raise UseCaseError(f"{usecase.name}: feature definitions do not produce {missing}")
    return out


def looks_back(out: ir.Table) -> bool:
    """Whether a row's features read other rows (a window over earlier events): then new
    rows need the stored history of their entities."""
    return bool(out.op().find(ops.WindowFunction))


def history_columns(usecase: UseCase, rows: ir.Table, out: ir.Table) -> list[str]:
    """The columns of ``rows`` the definitions (whose result over them is ``out``) read,
    with the keys: what the history keeps. Every column when references are joined in
    (their reads cannot be traced to ``rows``)."""
    if usecase.enrich:
        return list(rows.columns)
    used = {f.name for f in out.op().find(ops.Field) if f.rel == rows.op()}
    return [c for c in rows.columns if c in used or c in usecase.keys]
