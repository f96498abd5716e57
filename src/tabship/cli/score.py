"""``tabship score``: a whole file scored by a published version, into a Delta table."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Literal

import typer

from tabship.cli.context import console, get, progress
from tabship.errors import TabshipError
from tabship.registry import vocabulary as vocab

app = typer.Typer()
EngineName = Literal["duckdb", "spark"]


@app.command("score")
def score_cmd(
    ctx: typer.Context,
    use_case: Annotated[str, typer.Argument(help="Use case whose model scores.")],
    data: Annotated[Path, typer.Option(help="The rows to score: a file or a folder of them.")],
    out: Annotated[Path, typer.Option(help="The Delta table the scores go to (a new version).")],
    version: Annotated[str | None, typer.Option(help="A version number.")] = None,
    alias: Annotated[str | None, typer.Option(help="An alias (default: champion).")] = None,
    engine: Annotated[
        EngineName | None, typer.Option(help="Feature engine (default: the configured one).")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(help="YYYY-MM-DD: score every entity once, as of that date."),
    ] = None,
) -> None:
    """Features as the feature view defines them, the version's model, the decision."""
    from tabship.batch.score import score_files

    if version is not None and alias is not None:
        raise TabshipError("give --version or --alias, not both")
    try:
        day = None if as_of is None else dt.date.fromisoformat(as_of)
    except ValueError as exc:
        raise TabshipError(f"--as-of must be a date (YYYY-MM-DD), not '{as_of}'") from exc
    c = get(ctx)
    usecase = c.usecase(use_case)
    files = c.pipeline.source_files(use_case, data, lambda _: None)
    c.pipeline.publish()
    with progress() as bar:
        task = bar.add_task("starting", total=None)
        result = score_files(
            usecase,
            c.settings,
            files,
            out,
            version or alias or vocab.CHAMPION,
            engine,
            lambda name: bar.update(task, description=name),
            as_of=day,
        )
    console.print(
        f"{result.rows:,} rows scored by {usecase.name} version {result.model_version} "
        f"in {result.seconds:.1f} s → {result.out} (table version {result.table_version}); "
        f"{result.quarantined:,} quarantined",
        highlight=False,
    )
