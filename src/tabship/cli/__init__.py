"""The ``tabship`` command: thin Typer adapters over the packages."""

from __future__ import annotations

import sys

import typer

from tabship.cli import (
    dashboard,
    data,
    demo,
    explain,
    features,
    models,
    monitor,
    score,
    send,
    serve,
    train,
)
from tabship.cli.context import console_err, make_context
from tabship.errors import TabshipError

app = typer.Typer(
    name="tabship",
    help="Take a tabular model from notebook to production.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.callback()(make_context)
app.add_typer(data.app, name="data")
app.add_typer(features.app, name="features")
app.add_typer(models.app, name="models")
app.add_typer(monitor.app, name="monitor")
app.registered_commands += train.app.registered_commands
app.registered_commands += serve.app.registered_commands
app.registered_commands += demo.app.registered_commands
app.registered_commands += send.app.registered_commands
app.registered_commands += score.app.registered_commands
app.registered_commands += explain.app.registered_commands
app.registered_commands += dashboard.app.registered_commands


def main() -> None:
    """Entry point: every user-facing error is one line on stderr and exit code 1.

    Usage errors (unknown option, bad value) are Typer's own: a message and exit code 2.
    """
    try:
        app()
    except TabshipError as exc:
        console_err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)
