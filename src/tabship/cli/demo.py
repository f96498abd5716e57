"""``tabship demo``: the whole path on generated data, ending with the API serving it.

Each step is echoed as the ``tabship`` command a user would type, then run in this
process by that command's own function (over the pipeline facade), so the demo doubles
as a walkthrough and prints what the commands print.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from tabship.cli.context import console, get
from tabship.cli.data import generate_cmd
from tabship.cli.features import build_cmd, get_cmd, materialize_cmd
from tabship.cli.models import approve_cmd, list_cmd
from tabship.cli.train import train_cmd
from tabship.errors import TabshipError
from tabship.registry import vocabulary as vocab
from tabship.settings import Settings
from tabship.usecase import UseCase

app = typer.Typer()


def _run(
    settings: Settings, shown: list[str], command: Callable[..., None], *args: Any, **kwargs: Any
) -> None:
    """Echo ``tabship <shown>``, then run ``command`` here with the same arguments."""
    line = ["tabship", "--home", str(settings.home), *shown]
    console.print(f"[bold cyan]$ {shlex.join(line)}[/bold cyan]", highlight=False)
    command(*args, **kwargs)


def _payload_example(settings: Settings, usecase: UseCase) -> dict[str, Any]:
    """A declared payload (``serving.payload``) filled from a row of the feature table."""
    from tabship.stores.offline import FEATURES_TABLE, OfflineStore

    fields = usecase.serving.payload or []
    table = OfflineStore(settings.offline_dir).dataset(usecase.name, FEATURES_TABLE)
    row = table.head(1, columns=fields).to_pylist()[0]
    text = {n for n, c in usecase.contract.columns.items() if c.type == "string"}
    return {k: str(v) if k in text else v for k, v in row.items()}


def curl_examples(settings: Settings, usecase: UseCase, port: int) -> list[str]:
    """Requests that work against the demo's server: features, prediction by id and from a
    payload when the use case declares one, a named version, the explanation, global
    importance and similar clients where the champion has an explainer, the model's
    description."""
    from tabship.serving.models.mirror import Repository
    from tabship.stores.online import open_online_store

    use_case, entity = usecase.name, usecase.entity
    store = open_online_store(settings)
    try:
        keys = store.keys(use_case, 1)
    finally:
        store.close()
    repo = Repository(settings.serving_dir)
    state = repo.read_state(use_case)
    if not keys or state is None or vocab.CHAMPION not in state.aliases:
        raise TabshipError(f"nothing to serve for {use_case}: no features or no champion")
    declared = usecase.contract.columns.get(entity)
    numeric = declared is not None and declared.type == "int64"
    key: int | str = int(keys[0]) if numeric else keys[0]  # "0001000102" stays text
    body = shlex.quote(json.dumps({entity: key}))
    base = f"http://127.0.0.1:{port}"
    post = f"curl -s -X POST -H 'Content-Type: application/json' -d {body}"
    version = state.aliases[vocab.CHAMPION]
    lines = [
        f"curl -s {base}/v1/features/{use_case}/{keys[0]}",
        f"{post} {base}/v1/models/{use_case}/predict",
        f"{post} {base}/v1/models/{use_case}/versions/{version}/predict",
        f"curl -s {base}/v1/models/{use_case}",
    ]
    if repo.read_meta(use_case, version).get("explainer"):  # why, and what weighs most
        lines.insert(3, f"{post} {base}/v1/models/{use_case}/explain")
        lines.insert(4, f"curl -s {base}/v1/models/{use_case}/importance")
        lines.insert(5, f"curl -s '{base}/v1/models/{use_case}/similar/{keys[0]}?k=50'")
    if usecase.serving.payload:
        payload = shlex.quote(json.dumps(_payload_example(settings, usecase)))
        lines.insert(
            2,
            f"curl -s -X POST -H 'Content-Type: application/json' -d {payload} "
            f"{base}/v1/models/{use_case}/predict",
        )
    return lines


@app.command("demo")
def demo_cmd(
    ctx: typer.Context,
    use_case: Annotated[str, typer.Argument(help="Use-case name.")] = "credit_risk",
    rows: Annotated[
        int | None,
        typer.Option(min=1000, help="Generated source rows (default: source.demo_rows)."),
    ] = None,
    trials: Annotated[int, typer.Option(min=1, help="Search trials.")] = 4,
    by: Annotated[str, typer.Option(help="Who approves, in the demo.")] = "demo-reviewer",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    serve: Annotated[bool, typer.Option(help="End by serving (--no-serve stops before).")] = True,
    dashboard_port: Annotated[
        int, typer.Option(min=1, max=65535, help="The dashboard's, where it is started.")
    ] = 8501,
) -> None:
    """Build features (from TABSHIP_DATA/<use case>/ when there, else generated data),
    materialise, train, approve, then serve."""
    settings = get(ctx).settings
    usecase = get(ctx).usecase(use_case)  # fails early on an unknown use case
    data = _source(ctx, settings, use_case, rows or usecase.source.demo_rows)
    _pipeline(ctx, settings, use_case, data, trials, by)
    console.print("\n[bold]Try these once the server is up:[/bold]")
    for line in curl_examples(settings, usecase, port):
        console.print(f"  {line}", highlight=False, soft_wrap=True)
    if serve:
        start_dashboard(settings, usecase, port, dashboard_port)
        _serve(settings, port)


def _source(ctx: typer.Context, settings: Settings, use_case: str, rows: int) -> Path:
    """TABSHIP_DATA/<use case> when there, else generated (and slightly dirty) data."""
    real = settings.data / use_case if settings.data is not None else None
    if real is not None and real.is_dir():  # TABSHIP_DATA holds this use case's files
        console.print(f"[bold]using the data in {real}[/bold]")
        return real
    data = settings.home / "data" / use_case
    args = ["--rows", str(rows), "--out", str(data), "--dirty", "0.001"]
    shown = ["data", "generate", use_case, *args]
    _run(settings, shown, generate_cmd, ctx, use_case, out=data, rows=rows, dirty=0.001)
    return data


def _pipeline(
    ctx: typer.Context, settings: Settings, use_case: str, data: Path, trials: int, by: str
) -> None:
    """Build, materialise, look, train, list, approve the challenger, list again."""
    build = ["features", "build", use_case, "--data", str(data)]
    _run(settings, build, build_cmd, ctx, use_case, data=data)
    _run(settings, ["features", "materialize", use_case], materialize_cmd, ctx, use_case)
    _run(settings, ["features", "get", use_case, "--sample", "2"], get_cmd, ctx, use_case, sample=2)
    train = ["train", use_case, "--trials", str(trials)]
    _run(settings, train, train_cmd, ctx, use_case, trials=trials)
    _run(settings, ["models", "list", use_case], list_cmd, ctx, use_case)
    reason = "demo: reviewed the evaluation report"
    approve = ["models", "approve", use_case, vocab.CHALLENGER, "--by", by, "--reason", reason]
    _run(settings, approve, approve_cmd, ctx, use_case, vocab.CHALLENGER, by=by, reason=reason)
    _run(settings, ["models", "list", use_case], list_cmd, ctx, use_case)


def start_dashboard(
    settings: Settings, usecase: UseCase, port: int, dashboard_port: int
) -> subprocess.Popen[bytes] | None:
    """Start the officers' dashboard beside the API, where the champion explains its
    decisions and the ``[dashboard]`` extra is installed (it stops with the demo)."""
    from tabship.serving.models.mirror import Repository

    repo = Repository(settings.serving_dir)
    state = repo.read_state(usecase.name)
    if state is None or vocab.CHAMPION not in state.aliases:
        return None
    meta = repo.read_meta(usecase.name, state.aliases[vocab.CHAMPION])
    if not meta.get("explainer") or meta.get("task") != "classification":
        return None
    from tabship.dashboard.launch import start

    try:
        process = start("127.0.0.1", dashboard_port, f"http://127.0.0.1:{port}")
    except TabshipError as exc:  # the extra is missing: the API still serves
        console.print(f"[yellow]no dashboard: {exc}[/yellow]")
        return None
    console.print(f"[bold]Dashboard for the officers: http://127.0.0.1:{dashboard_port}[/bold]")
    return process


def _serve(settings: Settings, port: int) -> None:
    """Become ``tabship serve`` (this process is replaced; Ctrl-C stops it)."""
    console.print(
        f"\n[bold]Serving on http://127.0.0.1:{port} (docs at /docs); Ctrl-C stops.[/bold]"
    )
    command = [sys.executable, "-m", "tabship", "--home", str(settings.home), "serve"]
    sys.stdout.flush()
    os.execv(sys.executable, [*command, "--port", str(port)])
