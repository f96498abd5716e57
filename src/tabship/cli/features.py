"""``tabship features``: build, materialise and read feature tables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from tabship.cli.context import console, console_err, get, progress
from tabship.errors import SourceError, StoreError
from tabship.settings import EngineName, OnlineName
from tabship.stores.online import open_online_store
from tabship.stores.online.base import entity_answer

if TYPE_CHECKING:
    from tabship.features.build import BuildResult

# Engines, Delta and Arrow datasets load inside the commands that use them: `tabship
# --help` and `features get` stay fast.

app = typer.Typer(help="Feature tables: offline (versioned) and online (latest per entity).")


@app.command("build")
def build_cmd(
    ctx: typer.Context,
    use_case: Annotated[str, typer.Argument(help="Use-case name.")],
    data: Annotated[Path | None, typer.Option(help="Source file or folder.")] = None,
    engine: Annotated[EngineName | None, typer.Option(help="duckdb (default) or spark.")] = None,
    max_invalid_share: Annotated[float | None, typer.Option(min=0, max=1)] = None,
    incremental: Annotated[
        bool,
        typer.Option(help="--data holds only new rows: add their features to the stored table."),
    ] = False,
) -> None:
    """Check the contract, quarantine bad rows, compute features, write a new version."""
    pipeline = get(ctx).pipeline
    usecase = pipeline.usecase(use_case)  # read once, for the files and the build
    if incremental and data is None:
        raise SourceError("an incremental build needs the new rows' files (--data)")
    files = pipeline.source_files(usecase, data, say=console_err.print)
    with progress() as bar:
        steps = bar.add_task("starting", total=None)
        result = pipeline.build(
            usecase,
            files,
            engine,
            max_invalid_share,
            step=lambda name: bar.update(steps, description=name),
            incremental=incremental,
        )
    _print_build(result)


def _print_build(result: BuildResult) -> None:
    r = result.report
    summary = Table(title=f"features built: {r.use_case}", show_header=False)
    summary.add_row("rows in", f"{r.rows_in:,}")
    summary.add_row("rows quarantined", f"{r.rows_quarantined:,} ({r.invalid_share:.3%})")
    for rule, count in r.by_rule.items():
        summary.add_row(f"  {rule}", f"{count:,}")
    for column, count in r.normalized.items():
        summary.add_row(f"unknown → missing: {column}", f"{count:,}")
    summary.add_row("rows out", f"{r.rows_out:,}")
    summary.add_row("feature table", f"{result.feature_path} (version {r.feature_version})")
    summary.add_row("quarantine", f"{result.quarantine_path} (version {r.quarantine_version})")
    summary.add_row("quality report", str(result.report_paths[1]))
    summary.add_row("raw data version", r.raw_version)
    summary.add_row("time", f"{result.seconds:.1f} s")
    console.print(summary)


@app.command("materialize")
def materialize_cmd(
    ctx: typer.Context,
    use_case: Annotated[str, typer.Argument(help="Use-case name.")],
    online: Annotated[OnlineName | None, typer.Option(help="sqlite (default) or redis.")] = None,
    version: Annotated[
        int | None, typer.Option(help="Feature-table version (default latest).")
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Rewrite even if this version is already live.")
    ] = False,
    incremental: Annotated[
        bool, typer.Option(help="Rewrite only the entities with rows appended since.")
    ] = False,
) -> None:
    """Make the latest feature row of every entity live in the online store."""
    c = get(ctx)
    where = online or c.settings.online
    with progress() as bar:
        task = bar.add_task(f"materialising into {where}", total=None)
        result = c.pipeline.materialize(
            use_case,
            online,
            version,
            force,
            on_rows=lambda n: bar.advance(task, n),
            incremental=incremental,
        )
    if result.skipped:
        console.print(
            f"{use_case}: snapshot {result.version} already live in {where} "
            f"({result.rows:,} entities); nothing to do"
        )
    else:
        console.print(
            f"{use_case}: snapshot {result.version} live in {where}: "
            f"{result.rows:,} entities in {result.seconds:.1f} s"
        )


@app.command("get")
def get_cmd(
    ctx: typer.Context,
    use_case: Annotated[str, typer.Argument(help="Use-case name.")],
    entity_ids: Annotated[
        list[str] | None, typer.Argument(help="Entity keys, e.g. user ids.")
    ] = None,
    sample: Annotated[
        int, typer.Option(min=0, help="Also show this many entities of the store.")
    ] = 0,
    online: Annotated[OnlineName | None, typer.Option(help="sqlite (default) or redis.")] = None,
) -> None:
    """Print entities' live feature rows as JSON."""
    c = get(ctx)
    usecase = c.usecase(use_case)
    store = open_online_store(c.settings, online)
    try:
        snapshot = store.snapshot(usecase.name)
        if snapshot is None:
            raise StoreError(f"nothing materialised for '{use_case}' in {store.name} yet")
        keys = list(entity_ids or []) + store.keys(usecase.name, sample)
        if not keys:
            raise StoreError("give one or more entity ids, or --sample N")
        rows = store.get_many(usecase.name, keys)
    finally:
        store.close()
    missing = [k for k, row in rows.items() if row is None]
    if missing:
        raise StoreError(
            f"{usecase.entity} {', '.join(missing)} not found in {use_case} ({snapshot.version})"
        )
    for key, row in rows.items():
        answer = {"use_case": use_case, **entity_answer(usecase, key, row or {})}
        console.print_json(json.dumps({**answer, "feature_table_version": snapshot.version}))


@app.command("history")
def history_cmd(
    ctx: typer.Context,
    use_case: Annotated[str, typer.Argument(help="Use-case name.")],
) -> None:
    """List the versions of the feature table with their lineage."""
    from tabship.stores.offline import FEATURES_TABLE, OfflineStore

    c = get(ctx)
    usecase = c.usecase(use_case)
    rows = OfflineStore(c.settings.offline_dir).history(usecase.name, FEATURES_TABLE)
    table = Table("version", "build", "rows", "raw data", "code", "quarantine", "engine", "id")
    for r in rows:
        mode = f"+ onto v{r['base_version']}" if r.get("incremental") == "true" else "full"
        table.add_row(
            str(r.get("version", "")),
            mode,
            *(
                str(r.get(k, ""))
                for k in ("rows", "raw_version", "code_version", "quarantine_version", "engine")
            ),
            str(r.get("build_id", "")),
        )
    console.print(table)
