"""What every command shares: settings (built once), consoles and progress display."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from tabship.errors import TabshipError
from tabship.pipeline import Pipeline
from tabship.settings import Settings
from tabship.usecase import UseCase

console = Console()
console_err = Console(stderr=True)


@dataclass
class Context:
    """What every command works with: the settings and the pipeline over them."""

    settings: Settings
    pipeline: Pipeline

    def usecase(self, name: str) -> UseCase:
        """The declaration ``name``."""
        return self.pipeline.usecase(name)


def make_context(
    ctx: typer.Context,
    home: Annotated[Path | None, typer.Option(help="State folder (env TABSHIP_HOME).")] = None,
) -> None:
    """Build the settings once for every sub-command."""
    try:
        settings = Settings() if home is None else Settings(home=home)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        name = f"TABSHIP_{str(first['loc'][0]).upper()}" if first["loc"] else "TABSHIP_*"
        detail = where.partition(".")[2]
        name += f" ({detail})" if detail else ""
        message = str(first["msg"]).removeprefix("Value error, ")
        raise TabshipError(f"settings: {name}: {message}") from exc
    ctx.obj = Context(settings=settings, pipeline=Pipeline(settings))


def get(ctx: typer.Context) -> Context:
    """The context the root command built, from any sub-command."""
    obj = ctx.find_root().obj
    assert isinstance(obj, Context)
    return obj


@contextmanager
def progress() -> Iterator[Progress]:
    """A progress display on stderr (silent when stderr is not a terminal)."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console_err,
        transient=True,
    ) as bar:
        yield bar
