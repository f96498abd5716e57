"""Whether feature definitions compute each row from its own entity's rows only.

Then the rows the contract rejects need not be removed before the definitions run:
parked in a partition of their own (their entity and row key set to NULL, which no
valid row has), they touch no valid row's window and are dropped afterwards. This matters because an
engine sizes a window from its row estimate, and any join or filter below the window
cuts that estimate (DuckDB takes a fifth): on 10M rows, removing 0.1% of them first
made the window allocate 1 GB more and cost a tenth more CPU than parking them.
"""

from __future__ import annotations

import ibis.expr.operations as ops
import ibis.expr.types as ir


def entity_local(out: ir.Table, source: ir.Table, entity: str, key: str) -> bool:
    """True when every row of ``out`` depends only on rows of ``source`` with the same
    ``entity``, and ``out`` carries ``source``'s ``key`` through unchanged.

    Allowed between the two: projections, row filters, and windows partitioned by the
    entity. Anything else (a join, a grouping, a sub-query, a whole-table aggregate)
    could mix entities, so the answer is then False.
    """
    src = source.op()
    if key not in out.columns or not _is_column(out[key].op(), src, key):
        return False
    in_windows: set[ops.Node] = set()
    reductions: set[ops.Node] = set()
    stack: list[ops.Node] = [out.op()]
    seen: set[ops.Node] = set()
    while stack:
        node = stack.pop()
        if node in seen or node == src:
            continue
        seen.add(node)
        if isinstance(node, ops.Subquery):
            return False
        if isinstance(node, ops.Relation) and not isinstance(node, ops.Project | ops.Filter):
            return False
        if isinstance(node, ops.WindowFunction):
            if not any(_is_column(g, src, entity) for g in node.group_by):
                return False
            in_windows.add(node.func)
        elif isinstance(node, ops.Reduction | ops.Analytic):
            reductions.add(node)
        stack.extend(node.__children__)
    return reductions <= in_windows


def _is_column(value: ops.Node, src: ops.Node, name: str) -> bool:
    """``value`` is ``src``'s column ``name``, passed through projections and filters."""
    while isinstance(value, ops.Field):
        rel, column = value.rel, value.name
        while isinstance(rel, ops.Filter):
            rel = rel.parent
        if rel == src:
            return bool(column == name)
        if not isinstance(rel, ops.Project):
            return False
        value = rel.values[column]
    return False
