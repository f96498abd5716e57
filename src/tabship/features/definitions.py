"""The use case's feature definitions applied to a table, and what they read from it."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class HistoryColumns:
    """What the definitions read of each row, and what they read of other rows."""

    read: list[str]
    kept: list[str]  # a subset of ``read``: the inputs of windows and of row filters


def history_columns(usecase: UseCase, rows: ir.Table, out: ir.Table) -> HistoryColumns:
    """The columns of ``rows`` the definitions (whose result over them is ``out``) read, and
    of those the ones a later row's features can depend on: what the history keeps. Every
    column when references are joined in (their reads cannot be traced to ``rows``)."""
    if usecase.enrich:
        return HistoryColumns(list(rows.columns), list(rows.columns))
    src = rows.op()
    used = {f.name for f in out.op().find(ops.Field) if f.rel == src}
    read = [c for c in rows.columns if c in used or c in usecase.keys]
    seen_by_others = _read_for_other_rows(out.op(), src)
    if seen_by_others is None:
        return HistoryColumns(read, read)
    return HistoryColumns(read, [c for c in read if c in seen_by_others or c in usecase.keys])


def _read_for_other_rows(out: ops.Node, src: ops.Node) -> set[str] | None:
    """Columns of ``src`` that can change another row's features: the inputs of every
    window, and of every filter (it decides which rows a window sees), traced back through
    projections. None when a relation other than a projection or filter is in the way."""
    stack: list[ops.Node] = list(out.find(ops.WindowFunction))
    for node in out.find(ops.Filter):
        stack.extend(node.predicates)
    found: set[str] = set()
    seen: set[ops.Node] = set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if not isinstance(node, ops.Field):
            stack.extend(c for c in node.__children__ if not isinstance(c, ops.Relation))
            continue
        rel = node.rel
        while isinstance(rel, ops.Filter):
            rel = rel.parent
        if rel == src:
            found.add(node.name)
        elif isinstance(rel, ops.Project):
            stack.append(rel.values[node.name])
        else:
            return None
    return found
