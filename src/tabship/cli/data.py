"""``tabship data``: sample data for a use case."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tabship.cli.context import console, get, progress
from tabship.data.generate import generate

app = typer.Typer(help="Source data.", no_args_is_help=True)


@app.command("generate")
def generate_cmd(
    ctx: typer.Context,
    use_case: Annotated[str, typer.Argument(help="Use-case name.")],
    out: Annotated[Path, typer.Option(help="Folder to write into.")],
    rows: Annotated[int, typer.Option(min=1, help="Rows to write.")] = 100_000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same file).")] = 7,
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
    dirty: Annotated[
        float, typer.Option(min=0, max=1, help="Share of rows to break on purpose.")
    ] = 0.0,
) -> None:
    """Write seeded sample data shaped like the use case's real source."""
    usecase = get(ctx).usecase(use_case)
    with progress() as bar:
        task = bar.add_task(f"generating {use_case}", total=rows)
        files = generate(
            usecase,
            rows,
            out,
            seed=seed,
            fmt=fmt,
            dirty=dirty,
            on_rows=lambda n: bar.advance(task, n),
        )
    for file in files:
        console.print(f"wrote {rows:,} rows to {file}")
