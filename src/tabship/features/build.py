"""One feature build: raw files -> contract -> quarantine -> features -> offline store.

Nothing is written to a store unless the contract passes; the quarantine table is
committed first and the feature table last, so the feature table's commit is the one
step that publishes a build (and it names the quarantine version it goes with).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gc
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
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
from tabship.errors import ContractError, SourceError, TabshipError, UseCaseError
from tabship.features.engine import Engine, in_background
from tabship.features.locality import entity_local
from tabship.stores.offline import (
    FEATURES_TABLE,
    QUARANTINE_TABLE,
    STAGING,
    OfflineStore,
    stage_arrow,
)
from tabship.usecase import UseCase

Step = Callable[[str], None]
P = ParamSpec("P")
R = TypeVar("R")
_MISSING = "__missing__"
_UNLABELLED = "__unlabelled"
_PARKED = "__tabship_parked"


@dataclass(frozen=True)
class BuildResult:
    """What a build wrote: its quality report, the tables' paths and how long it took."""

    report: QualityReport
    feature_path: Path
    quarantine_path: Path
    report_paths: tuple[Path, Path]
    seconds: float


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
    on_rows: Callable[[int], None] | None = None,
) -> BuildResult:
    """Run one build; raises a TabshipError (and writes nothing to the stores) on bad input."""
    # Long on purpose: the steps overlap (the source hash and the key counts run on other
    # cores while the contract's counts query runs), and that order is the build's speed;
    # one function keeps it visible. Each step is a named helper.
    started = time.perf_counter()
    build_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:6]
    step("reading source")
    raw_version = _hash_in_background(files)
    raw, read = _read_source(usecase, engine, files)
    references = [read_reference(spec, files[0].parent) for spec in usecase.enrich]
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
    features = _features(usecase, engine, checked, bad, list(zip(references, joins, strict=True)))
    lineage = {
        "build_id": build_id,
        "raw_version": report.raw_version,
        "code_version": usecase.fingerprint(),
        "tabship_version": __version__,
        "engine": engine.name,
        "as_of": (today or dt.date.today()).isoformat(),
    }
    _publish(usecase, engine, offline, features, quarantined, references, lineage, report, step)
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


def _publish(
    usecase: UseCase,
    engine: Engine,
    offline: OfflineStore,
    features: ir.Table,
    quarantined: pa.Table,
    references: list[Reference],
    lineage: dict[str, str],
    report: QualityReport,
    step: Step,
) -> None:
    """Write every table's files, then commit them one after the other: a build killed
    while it computes leaves no version behind, and the commits follow each other in
    milliseconds. Records the versions in ``report`` and ``lineage``."""
    with contextlib.ExitStack() as stack:
        staged = {}
        for ref in references:
            staged[table_name(ref.spec)] = stack.enter_context(
                offline.staging(usecase.name, table_name(ref.spec))
            )
            stage_arrow(ref.rows, staged[table_name(ref.spec)])
        step("writing quarantine")
        quarantine_dir = stack.enter_context(offline.staging(usecase.name, QUARANTINE_TABLE))
        stage_arrow(quarantined, quarantine_dir)
        step("computing and writing features")
        files_dir = stack.enter_context(
            offline.staging(usecase.name, FEATURES_TABLE, f"{STAGING}{lineage['build_id']}")
        )
        engine.write_parquet(features, files_dir)
        for ref in references:
            name = table_name(ref.spec)
            version = offline.commit_files(usecase.name, name, staged[name], lineage)
            lineage[f"enrich.{ref.spec.name}"] = f"{version}:{ref.version}"
        report.quarantine_version = offline.commit_files(
            usecase.name, QUARANTINE_TABLE, quarantine_dir, lineage
        )
        lineage["quarantine_version"] = str(report.quarantine_version)
        lineage["rows"] = str(report.rows_out)
        report.feature_version = offline.commit_files(
            usecase.name, FEATURES_TABLE, files_dir, lineage
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
) -> ir.Table:
    """The feature table of the valid rows.

    When the definitions keep to each entity's own rows (see ``locality``), quarantined
    rows are parked under a NULL entity and key and dropped after; otherwise they are removed
    before the definitions run.
    """
    key, entity = usecase.row_key, usecase.entity

    def define(rows: ir.Table) -> tuple[ir.Table, ir.Table]:
        for ref, joined in references:
            rows = rows.join(joined, ref.spec.key).select(*rows.columns, *ref.spec.columns)
        return rows, feature_expression(usecase, rows)

    typed = checked.table.select(*checked.data_columns())
    if not len(bad.keys) and not bad.null_keys:
        return define(_declared_not_null(checked, typed))[1]
    quarantined = engine.register_arrow("tabship_quarantined_keys", pa.table({key: bad.keys}))
    is_bad = typed[key].isin(quarantined[key])
    if bad.null_keys:
        is_bad = is_bad | typed[key].isnull()
    if entity in checked.not_null:  # no valid row has a NULL entity
        # Entity and key both NULL: parked rows share a partition no valid row is in,
        # and leave the output through one test (the key is not null).
        flagged = typed.mutate(**{_PARKED: is_bad})
        parked = flagged.mutate(
            **{
                c: ibis.ifelse(flagged[_PARKED], ibis.null(typed[c].type()), flagged[c])
                for c in (entity, key)
            }
        ).drop(_PARKED)
        source, out = define(_declared_not_null(checked, parked))
        if entity_local(out, source, entity, key):
            return out.filter(out[key].notnull())
    # The key is declared unique and not null, so every copy of a duplicate is quarantined
    # and removing by key removes exactly the quarantined rows.
    if bad.null_keys:
        typed = typed.filter(typed[key].notnull())
    return define(_declared_not_null(checked, typed.anti_join(quarantined, key)))[1]


def _declared_not_null(checked: CheckedTable, rows: ir.Table) -> ir.Table:
    """Valid rows hold no NULL where the contract forbids one: say so in the types, so
    definitions can pick cheaper plans (e.g. COUNT(*) for a mean). Parked rows may break
    this, but nothing they compute is kept."""
    return rows.mutate(
        **{c: rows[c].cast(rows[c].type().copy(nullable=False)) for c in checked.not_null}
    )


def _count_rules(quarantined: pa.Table) -> dict[str, int]:
    counted = pc.value_counts(pc.list_flatten(quarantined.column("rules"))).to_pylist()
    return dict(Counter({c["values"]: c["counts"] for c in counted}).most_common())


def _counting(
    batches: pa.RecordBatchReader, on_rows: Callable[[int], None]
) -> pa.RecordBatchReader:
    def gen() -> Iterator[pa.RecordBatch]:
        for batch in batches:
            on_rows(batch.num_rows)
            yield batch

    return pa.RecordBatchReader.from_batches(batches.schema, gen())
