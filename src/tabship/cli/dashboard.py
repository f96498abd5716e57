"""``tabship dashboard``: the officers' dashboard beside the API."""

from __future__ import annotations

from typing import Annotated

import typer

from tabship.cli.context import get

app = typer.Typer()


@app.command("dashboard")
def dashboard_cmd(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8501,
) -> None:
    """Serve the dashboard (it reads the API at TABSHIP_DASHBOARD_API_URL, nothing else)."""
    from tabship.dashboard.launch import run

    settings = get(ctx).settings
    typer.echo(f"dashboard on http://{host}:{port}, reading {settings.dashboard_api_url}")
    raise typer.Exit(run(host, port))
