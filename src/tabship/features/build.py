"""One feature build: raw files -> contract -> quarantine -> features -> offline store.

Nothing is written to a store unless the contract passes; the quarantine table is
committed first and the feature table last, so the feature table's commit is the one
step that publishes a build (and it names the quarantine version it goes with).
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ParamSpec, TypeVar

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from tabship import __version__
from tabship.data.enrich import Reference, read_reference, table_name
from tabship.data.file_stats import parquet_stats
from tabship.data.numbered import numbered
from tabship.data.report import QualityReport
from tabship.data.rules import CheckedTable, Duplicates, apply_contract
from tabship.data.sources import fingerprint
from tabship.errors import ContractError, SourceError, TabshipError
from tabship.features.as_of import AsOf
from tabship.features.definitions import (
    HistoryColumns,
    feature_expression,
    history_columns,
    looks_back,
)
from tabship.features.engine import Engine, in_background
from tabship.features.incremental import (
    Base,
    IncrementalError,
    refuse_changed_references,
    refuse_overlaps,
    with_history,
)
from tabship.features.locality import entity_local
from tabship.features.publish import Computed, publish
from tabship.stores.offline import FEATURES_TABLE, QUARANTINE_TABLE, OfflineStore
from tabship.usecase import UseCase

Step = Callable[[str], None]
P = ParamSpec("P")
R = TypeVar("R")
_MISSING = "__missing__"
_UNLABELLED = "__unlabelled"
_PARKED = "__tabship_parked"
_NOT_LOCAL = (
    "its features read rows of other {entity}s (a join or a whole-table aggregate), so new "
    "rows change stored ones; run a full build"
)


@dataclass(frozen=True)
class BuildResult:
    """What a build wrote: its quality report, the tables' paths and how long it took."""

    report: QualityReport
    feature_path: Path
    quarantine_path: Path
    report_paths: tuple[Path, Path]
    seconds: float


def _sparing_loaded_objects(func: Callable[P, R]) -> Callable[P, R]:
    """Python's full collections walk every object alive, most of them the libraries
    loaded at import (Ibis, Arrow, pandas): one took 0.08 s in the middle of a 10M-row
    build. Frozen for the call, those are skipped; what the call makes is collected as
    usual, and the rest is thawed after."""

    @functools.wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        gc.freeze()
        try:
            return func(*args, **kwargs)
        finally:
            gc.unfreeze()

    return run


@_sparing_loaded_objects
def build_features(
    usecase: UseCase,
    files: list[Path],
    engine: Engine,
    offline: OfflineStore,
    reports_dir: Path,
    max_invalid_share: float | None = None,
    today: dt.date | None = None,
    step: Step = lambda _: None,
    base: Base | None = None,
    as_of: AsOf | None = None,
    keep_history: bool = True,
) -> BuildResult:
    """Run one build; raises a TabshipError (and writes nothing to the stores) on bad input.
    With ``base``, an incremental one: ``files`` hold only new rows, whose features are
    computed against the stored history and appended to the stored version. With
    ``as_of``, one row per entity: its features as of that date. A build whose tables
    no later build reads (a scoring's scratch copy) skips the history (``keep_history``)."""
    # Long on purpose: the steps overlap (the source hash and the key counts run on other
    # cores while the contract's counts query runs), and that order is the build's speed;
    # one function keeps it visible. Each step is a named helper.
    started = time.perf_counter()
    build_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:6]
    step("reading source")
    raw_version = _hash_in_background(files)
    raw, read = _read_source(usecase, engine, files)
    references = [read_reference(spec, files[0].parent) for spec in usecase.enrich]
    if base is not None:
        refuse_changed_references(usecase, base, {r.spec.name: r.version for r in references})
    step("checking the contract")
    stats = parquet_stats(files) if files[0].suffix == ".parquet" else None
    checked = apply_contract(raw, usecase.contract, today or dt.date.today(), stats)
    counting = {c: engine.duplicated_values(checked.table, c) for c in checked.unique}
    checked, joins = _join_references(engine, checked, references)
    rows_in, normalized, missing = _counts(engine, checked, usecase)  # while keys are counted
    for column, found in counting.items():
        checked = checked.with_duplicates(column, _duplicates(engine, column, found.result()))
    unlabelled = normalized.pop(_UNLABELLED, 0)
    dropped = 0 if read is None else read - rows_in
    if rows_in == 0:
        raise SourceError(f"{files[0]} has no rows")
    bad = _quarantine(engine, checked, usecase.row_key)
    quarantined = bad.rows
    tolerated = (
        usecase.contract.max_invalid_share if max_invalid_share is None else max_invalid_share
    )
    report = QualityReport(
        use_case=usecase.name,
        build_id=build_id,
        source_files=[str(f) for f in files],
        raw_version=raw_version(),
        rows_in=rows_in,
        rows_quarantined=quarantined.num_rows,
        max_invalid_share=tolerated,
        by_rule=_count_rules(quarantined),
        proven_by_statistics=list(checked.proven),
        normalized=normalized,
        missing=missing,
        exact_duplicates_dropped=dropped,
        unlabelled=unlabelled,
    )
    folder = reports_dir / usecase.name
    _within_tolerance(report, folder)
    joined = list(zip(references, joins, strict=True))
    features, history = _features(usecase, engine, checked, bad, joined, base, as_of)
    history = history if keep_history else None
    lineage = {
        "build_id": build_id,
        "raw_version": report.raw_version,
        "code_version": usecase.fingerprint(),
        "tabship_version": __version__,
        "engine": engine.name,
        "as_of": (today or dt.date.today()).isoformat(),
        "files": json.dumps([*(base.files if base else []), *(str(f) for f in files)]),
    }
    if base is not None:
        lineage.update({k: v for k, v in base.lineage.items() if k.startswith("enrich.")})
        lineage.update(incremental="true", base_version=str(base.version))
    tables = Computed(features, history, quarantined, references)
    publish(usecase, engine, offline, tables, lineage, report, step, base)
    paths = report.write(folder)
    return BuildResult(
        report=report,
        feature_path=offline.path(usecase.name, FEATURES_TABLE),
        quarantine_path=offline.path(usecase.name, QUARANTINE_TABLE),
        report_paths=paths,
        seconds=time.perf_counter() - started,
    )


def _read_source(
    usecase: UseCase, engine: Engine, files: list[Path]
) -> tuple[ir.Table, int | None]:
    """The raw rows with their row key; exact repeats dropped where declared, and then
    how many rows were read (the drop is counted with the contract's counts)."""
    column = usecase.source.row_number
    if column is not None:  # numbered in file order before any engine reads in parallel
        files = [numbered(files, column, engine.scratch)]
    raw = _with_row_key(usecase, _read(engine, files))
    if usecase.source.exact_duplicates != "drop":
        return raw, None
    read = int(engine.to_arrow(raw.count().as_table()).column(0)[0].as_py())
    return raw.distinct(), read


def _join_references(
    engine: Engine, checked: CheckedTable, references: list[Reference]
) -> tuple[CheckedTable, list[ir.Table]]:
    """Register each reference table and check its key is known in every row."""
    joins = []
    for ref in references:
        joined = engine.register_arrow(f"tabship_{table_name(ref.spec)}", ref.rows)
        checked = checked.with_known(ref.spec.key, joined, ref.spec.name)
        joins.append(joined)
    return checked, joins


def _within_tolerance(report: QualityReport, folder: Path) -> None:
    """Fail the build (its report written, nothing else) past the tolerated invalid share."""
    if report.invalid_share <= report.max_invalid_share:
        return
    report.passed = False
    report.write(folder)
    worst = ", ".join(f"{r} ({n:,})" for r, n in Counter(report.by_rule).most_common(3))
    raise ContractError(
        f"{report.invalid_share:.1%} of rows break the contract (tolerated "
        f"{report.max_invalid_share:.1%}); top rules: {worst}; see {folder / 'latest.md'}"
    )


def _hash_in_background(files: list[Path]) -> Callable[[], str]:
    """Hash the source files on another thread while the engine checks them: hashing
    releases the GIL, and its core is otherwise idle while Python compiles queries."""
    return in_background(lambda: fingerprint(files), "tabship-hash").result


def _read(engine: Engine, files: list[Path]) -> ir.Table:
    try:
        return engine.read(files)
    except TabshipError:
        raise
    except Exception as exc:  # the engines raise many types; the user needs the file and why
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SourceError(f"cannot read {files[0]}: {first}") from exc


def _with_row_key(usecase: UseCase, raw: ir.Table) -> ir.Table:
    """Add the declared composite row key (``source.row_key_from``) as one text column."""
    parts = usecase.source.row_key_from
    if not parts:
        return raw
    missing = [c for c in parts if c not in raw.columns]
    if missing:
        raise ContractError(f"missing column(s): {', '.join(missing)}")
    key: ir.StringValue = raw[parts[0]].cast("string")
    for column in parts[1:]:
        key = key.concat("|", raw[column].cast("string"))
    return raw.mutate(**{usecase.row_key: key})


def _duplicates(engine: Engine, column: str, found: pa.Table) -> Duplicates:
    name = f"tabship_duplicates_{column}"
    return Duplicates(engine.register_arrow(name, found), found.column(column).combine_chunks())


def _counts(
    engine: Engine, checked: CheckedTable, usecase: UseCase
) -> tuple[int, dict[str, int], dict[str, int]]:
    """Rows in, rows per column whose 'unknown' sentinel became NULL, (under
    ``_UNLABELLED``) rows without a label, and missing values per declared column: one scan."""
    target = usecase.target
    aggs: dict[str, ir.Scalar] = {"__rows": checked.table.count()}
    labelled = f"{target}:not_null" in checked.proven  # every row has a label: no need to look
    if target is not None and target in checked.table.columns and not labelled:
        aggs[_UNLABELLED] = checked.table[target].isnull().cast("int64").sum()
    for col, flag in checked.normalized.items():
        aggs[col] = flag.cast("int64").sum()
    declared = [c for c in usecase.contract.columns if f"{c}:not_null" not in checked.proven]
    for col in declared:
        aggs[_MISSING + col] = checked.table[col].isnull().cast("int64").sum()
    row = engine.to_arrow(checked.table.aggregate(**aggs)).to_pylist()[0]
    rows = int(row.pop("__rows") or 0)
    missing = {
        k.removeprefix(_MISSING): int(row.pop(k) or 0) for k in list(row) if k.startswith(_MISSING)
    }
    return rows, {k: int(v or 0) for k, v in row.items()}, missing


@dataclass(frozen=True)
class _Quarantined:
    rows: pa.Table  # values as read, with the rules they break
    keys: pa.Array  # their typed row keys
    null_keys: bool  # some row's key is missing (or does not parse)


def _quarantine(engine: Engine, checked: CheckedTable, key: str) -> _Quarantined:
    rows = engine.to_arrow(checked.invalid_rows().mutate(__key=checked.table[key]))
    column = rows.column("__key")
    return _Quarantined(
        checked.label(rows.drop_columns(["__key"])),
        column.drop_null().unique(),
        column.null_count > 0,
    )


def _features(
    usecase: UseCase,
    engine: Engine,
    checked: CheckedTable,
    bad: _Quarantined,
    references: list[tuple[Reference, ir.Table]],
    base: Base | None,
    as_of: AsOf | None,
) -> tuple[ir.Table, ir.Table | None]:
    """The feature table of the valid rows, and their history (the columns the definitions
    read) when the features look back on other rows.

    When the definitions keep to each entity's own rows (see ``locality``), quarantined
    rows are parked under a NULL entity and key and dropped after; otherwise they are removed
    before the definitions run. An incremental build (``base``) computes the new rows with
    their entities' stored history, after refusing rows that overlap it.
    """
    key, entity = usecase.row_key, usecase.entity

    def define(rows: ir.Table) -> tuple[ir.Table, ir.Table]:
        for ref, joined in references:
            rows = rows.join(joined, ref.spec.key).select(*rows.columns, *ref.spec.columns)
        return rows, feature_expression(usecase, rows)

    typed = checked.table.select(*checked.data_columns())
    probe = define(typed)
    columns = history_columns(usecase, typed, probe[1]) if looks_back(probe[1]) else None
    clean = not len(bad.keys) and not bad.null_keys
    if base is None and as_of is None and clean:
        out = define(_declared_not_null(checked, typed))[1]
        return out, None if columns is None else typed.select(*columns.kept)
    valid = typed if clean else _valid(engine, typed, bad, key)
    history = None if columns is None else valid.select(*columns.kept)
    if as_of is not None:  # a scoring's rows: nothing is kept
        return as_of.keep(define(_declared_not_null(checked, as_of.rows(valid)))[1]), None
    if base is not None:
        rows = _onto(engine, usecase, base, valid, columns, probe)
        out = define(_declared_not_null(checked, rows))[1]
        return out.filter(out[key].isin(valid[key])), history
    if entity in checked.not_null:  # no valid row has a NULL entity
        # Entity and key both NULL: parked rows share a partition no valid row is in,
        # and leave the output through one test (the key is not null).
        is_bad = _is_bad(engine, typed, bad, key)
        flagged = typed.mutate(**{_PARKED: is_bad})
        parked = flagged.mutate(
            **{
                c: ibis.ifelse(flagged[_PARKED], ibis.null(typed[c].type()), flagged[c])
                for c in (entity, key)
            }
        ).drop(_PARKED)
        source, out = define(_declared_not_null(checked, parked))
        if entity_local(out, source, entity, key):
            return out.filter(out[key].notnull()), history
    # The key is declared unique and not null, so every copy of a duplicate is quarantined
    # and removing by key removes exactly the quarantined rows.
    return define(_declared_not_null(checked, valid))[1], history


def _onto(
    engine: Engine,
    usecase: UseCase,
    base: Base,
    valid: ir.Table,
    columns: HistoryColumns | None,
    probe: tuple[ir.Table, ir.Table],
) -> ir.Table:
    """An incremental build's rows: the new valid rows, checked against the stored version,
    with the stored history of their entities when the definitions look back."""
    refuse_overlaps(engine, usecase, base, valid)
    if columns is None:
        return valid
    if not entity_local(probe[1], probe[0], usecase.entity, usecase.row_key):
        raise IncrementalError(f"{usecase.name}: {_NOT_LOCAL.format(entity=usecase.entity)}")
    return with_history(engine, usecase, base, valid, columns)


def _quarantined_keys(engine: Engine, bad: _Quarantined, key: str) -> ir.Table:
    return engine.register_arrow("tabship_quarantined_keys", pa.table({key: bad.keys}))


def _is_bad(engine: Engine, typed: ir.Table, bad: _Quarantined, key: str) -> ir.BooleanValue:
    """Whether a row is quarantined (its key is, or is missing)."""
    is_bad = typed[key].isin(_quarantined_keys(engine, bad, key)[key])
    return is_bad | typed[key].isnull() if bad.null_keys else is_bad


def _valid(engine: Engine, typed: ir.Table, bad: _Quarantined, key: str) -> ir.Table:
    """The rows the contract accepts: every copy of a duplicate key is quarantined, so
    removing by key removes exactly the quarantined rows."""
    if bad.null_keys:
        typed = typed.filter(typed[key].notnull())
    return typed.anti_join(_quarantined_keys(engine, bad, key), key)


def _declared_not_null(checked: CheckedTable, rows: ir.Table) -> ir.Table:
    """Valid rows hold no NULL where the contract forbids one: say so in the types, so
    definitions can pick cheaper plans (e.g. COUNT(*) for a mean). Parked rows may break
    this, but nothing they compute is kept."""
    return rows.mutate(
        **{
            c: rows[c].cast(rows[c].type().copy(nullable=False))
            for c in checked.not_null
            if c in rows.columns
        }
    )


def _count_rules(quarantined: pa.Table) -> dict[str, int]:
    counted = pc.value_counts(pc.list_flatten(quarantined.column("rules"))).to_pylist()
    return dict(Counter({c["values"]: c["counts"] for c in counted}).most_common())
