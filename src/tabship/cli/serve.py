"""``tabship serve``: the feature and prediction APIs on uvicorn."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from tabship.cli.context import get

Role = Literal["all", "features", "predictions"]
SyncMode = Literal["worker", "inline", "off"]
app = typer.Typer()


@app.command("serve")
def serve_cmd(
    ctx: typer.Context,
    role: Annotated[
        Role, typer.Argument(help="all (default), or one of the two services.")
    ] = "all",
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    features_url: Annotated[
        str | None,
        typer.Option(help="Read features from this feature API instead of in process."),
    ] = None,
    sync: Annotated[
        SyncMode,
        typer.Option(
            help="worker: follow the registry from a side process; off: serve the "
            "local model repository as it is; inline: sync in this process."
        ),
    ] = "worker",
    log_level: Annotated[str, typer.Option(help="debug, info, warning, error.")] = "info",
) -> None:
    """Serve every declared use case: features by id, predictions from approved models."""
    import uvicorn

    from tabship.errors import TabshipError
    from tabship.serving.app import create_app
    from tabship.serving.logs import configure

    if features_url is not None and role != "predictions":
        raise TabshipError("--features-url applies to 'serve predictions' only")
    configure(log_level.upper())
    application = create_app(get(ctx).settings, role, features_url, sync)
    uvicorn.run(
        application,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        log_level=log_level,
        timeout_graceful_shutdown=10,
    )
