"""What an incremental build adds to: the stored version, and the checks that keep the
result identical to a full rebuild over every file.

New rows are computed against the stored history of their entities. That equals a full
rebuild only when no stored row would change: so a new row may not repeat a stored row key,
nor fall on a day before its entity's stored history (a stored row's point-in-time features
would then have to see it). Either is refused with the rows named; a declaration with
``feature_view.on_overlap: rebuild`` rebuilds the table in full from every file instead.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import ibis
import ibis.expr.types as ir

from tabship.errors import TabshipError
from tabship.features.definitions import HistoryColumns
from tabship.features.engine import Engine
from tabship.stores.offline import FEATURES_TABLE, HISTORY_TABLE, QUARANTINE_TABLE, OfflineStore
from tabship.usecase import UseCase

SHOWN = 5  # rows named in a refusal


class IncrementalError(TabshipError):
    """The stored table cannot take new rows incrementally (a full build can)."""


class OverlapError(IncrementalError):
    """New rows overlap what is stored; the message names them."""


@dataclass(frozen=True)
class Base:
    """The stored version of a use case's tables that an incremental build adds to."""

    version: int
    lineage: dict[str, str]
    features: list[Path]
    quarantine: list[Path]
    history: list[Path] | None  # None: no history kept (the features read no other row)

    @property
    def files(self) -> list[str]:
        """The source files of every build the version is made of, oldest first."""
        return list(json.loads(self.lineage.get("files", "[]")))

    def version_of(self, table: str) -> int:
        """The version of a companion table that goes with the stored feature version."""
        return int(self.lineage[f"{table}_version"])


def stored_base(usecase: UseCase, offline: OfflineStore) -> Base:
    """The latest feature version and its companions; refused if the code has changed."""
    name = usecase.name
    version = offline.open(name, FEATURES_TABLE).version()
    lineage = offline.lineage(name, FEATURES_TABLE, version)
    if lineage.get("code_version") != usecase.fingerprint():
        raise IncrementalError(
            f"{name}: the feature code changed since version {version} was built; "
            "run a full build (without --incremental)"
        )
    history = None
    if "history_version" in lineage:
        history = offline.files(name, HISTORY_TABLE, int(lineage["history_version"]))
    return Base(
        version=version,
        lineage=lineage,
        features=offline.files(name, FEATURES_TABLE, version),
        quarantine=offline.files(name, QUARANTINE_TABLE, int(lineage["quarantine_version"])),
        history=history,
    )


def refuse_overlaps(engine: Engine, usecase: UseCase, base: Base, new: ir.Table) -> None:
    """Raise OverlapError naming the new valid rows that overlap the stored version."""
    key = usecase.row_key
    stored = engine.read(base.features)
    problems = []
    keys = new.select(key)
    count, shown = _sample(engine, keys.filter(keys[key].isin(stored[key])), key)
    if count:
        problems.append(f"{key} {_listed(shown, count)} already stored")
    quarantined = engine.read(base.quarantine)
    if key in quarantined.columns:
        text = new.select(__key=new[key].cast("string"))
        stored_text = quarantined[key].cast("string")
        count, shown = _sample(engine, text.filter(text.__key.isin(stored_text)), "__key")
        if count:
            problems.append(f"{key} {_listed(shown, count)} already stored in the quarantine")
    if usecase.event_time is not None:
        problems += _earlier(engine, usecase, stored, new)
    if problems:
        raise OverlapError(
            f"{usecase.name}: the new rows overlap version {base.version}: "
            + "; ".join(problems)
            + " (set feature_view.on_overlap: rebuild to rebuild in full instead)"
        )


def _earlier(engine: Engine, usecase: UseCase, stored: ir.Table, new: ir.Table) -> list[str]:
    """New rows on a day before their entity's last stored event."""
    entity, time, key = usecase.entity, usecase.event_time, usecase.row_key
    assert time is not None

    def day(t: ir.Table) -> ir.DateValue:
        value = t[time]
        return value if value.type().is_date() else value.date()

    mine = stored.filter(stored[entity].isin(new[entity]))
    last = mine.group_by(entity).aggregate(__last=day(mine).max())
    early = new.join(last, entity).filter(lambda t: day(t) < t.__last)
    count, shown = _sample(
        engine, early.select(key, entity, __day=day(early), __last=early.__last), key
    )
    if not count:
        return []
    named = [f"{key} {r[key]} ({entity} {r[entity]}, {r['__day']})" for r in shown]
    last_days = sorted({str(r["__last"]) for r in shown})
    return [
        f"{_listed(named, count)} fall before their {entity}'s stored history "
        f"(stored up to {', '.join(last_days)})"
    ]


def _sample(engine: Engine, rows: ir.Table, order: str) -> tuple[int, list[dict[str, object]]]:
    """The first rows (by ``order``) and how many there are; one query when there are none."""
    shown = engine.to_arrow(rows.order_by(order).limit(SHOWN)).to_pylist()
    if len(shown) < SHOWN:
        return len(shown), shown
    return int(engine.to_arrow(rows.count().as_table()).column(0)[0].as_py()), shown


def _listed(shown: Sequence[object], count: int) -> str:
    values = [str(next(iter(v.values()))) if isinstance(v, dict) else str(v) for v in shown]
    more = f" (and {count - len(values):,} more)" if count > len(values) else ""
    return ", ".join(values) + more


def refuse_changed_references(usecase: UseCase, base: Base, versions: dict[str, str]) -> None:
    """Stored rows were joined with the references as they were: a changed one needs a
    full build. ``versions`` maps each reference's name to its content version."""
    changed = [
        name
        for name, version in versions.items()
        if base.lineage.get(f"enrich.{name}", "").partition(":")[2] != version
    ]
    if changed:
        raise IncrementalError(
            f"{usecase.name}: reference table(s) {', '.join(changed)} changed since version "
            f"{base.version}; run a full build (without --incremental)"
        )


def with_history(
    engine: Engine, usecase: UseCase, base: Base, new: ir.Table, columns: HistoryColumns
) -> ir.Table:
    """The new rows' read columns with the stored history rows of the same entities (the
    columns no other row's features read are NULL in those: their own features are not
    kept)."""
    if base.history is None:
        raise IncrementalError(
            f"{usecase.name}: version {base.version} keeps no history of earlier rows; "
            "run a full build (without --incremental) once"
        )
    stored = engine.read(base.history)
    entity = usecase.entity
    mine = stored.filter(stored[entity].isin(new[entity]))
    typed = mine.select(
        **{
            c: mine[c].cast(new[c].type()) if c in columns.kept else ibis.null(new[c].type())
            for c in columns.read
        }
    )
    return new.select(*columns.read).union(typed)
