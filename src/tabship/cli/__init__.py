"""The ``tabship`` command: thin Typer adapters over the packages."""

from __future__ import annotations

import sys

import typer

from tabship.cli import data, features
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


def main() -> None:
    """Entry point: every user-facing error is one line on stderr and exit code 1."""
    try:
        app(standalone_mode=False)
    except TabshipError as exc:
        console_err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except (typer.Abort, KeyboardInterrupt):
        console_err.print("[red]aborted[/red]")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # click's usage errors and the like
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
