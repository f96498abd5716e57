"""``tabship send``: post every row of a file to a running service, print a summary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tabship.cli.context import console, get, progress
from tabship.errors import TabshipError

app = typer.Typer()


@app.command("send")
def send_cmd(
    ctx: typer.Context,
    use_case: Annotated[str, typer.Argument(help="Use case whose model answers.")],
    file: Annotated[Path, typer.Argument(help="CSV or Parquet file; one request per row.")],
    url: Annotated[str, typer.Option(help="Base URL of the service.")] = "http://127.0.0.1:8000",
    path: Annotated[
        str | None, typer.Option(help="Route (default /v1/models/<use case>/predict).")
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            help="X-API-Key to send, where the service closes predictions to callers without a key."
        ),
    ] = None,
) -> None:
    """Send each row as a JSON payload, the way a client would."""
    from tabship.cli.client import model_fields, rows, send

    usecase = get(ctx).usecase(use_case)
    # The model's own route takes its inputs only; a client route, the row as it is.
    bodies = list(rows(file, usecase, model_fields(usecase) if path is None else None))
    target = url.rstrip("/") + (path or f"/v1/models/{usecase.name}/predict")
    with progress() as bar:
        task = bar.add_task(f"POST {target}", total=len(bodies))
        headers = {"x-api-key": api_key} if api_key else None
        summary = send(target, iter(bodies), headers=headers, on_row=lambda: bar.advance(task))
    for line in summary.lines():
        console.print(line, highlight=False)
    if summary.answered < summary.sent:
        raise TabshipError(f"{summary.sent - summary.answered} of {summary.sent} rows refused")
