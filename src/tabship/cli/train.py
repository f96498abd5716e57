"""``tabship train``: one tracked, registered training run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tabship.cli.context import console, get, progress
from tabship.errors import TabshipError
from tabship.registry import vocabulary as vocab

app = typer.Typer()
# The stages a training run reports, in order (the progress bar counts them).
STAGES = ("reading", "searching", "fitting", "judging", "exporting", "tracking")


@app.command("train")
def train_cmd(
    ctx: typer.Context,
    use_case: Annotated[str, typer.Argument(help="Use-case name.")],
    trials: Annotated[
        int | None, typer.Option(min=1, help="Search trials (default: declared).")
    ] = None,
    feature_version: Annotated[
        int | None, typer.Option(help="Feature-table version (default: latest).")
    ] = None,
    data: Annotated[
        Path | None, typer.Option(help="Build features from this file or folder first.")
    ] = None,
    inbox: Annotated[
        Path | None,
        typer.Option(help="A watched folder: train one new version per file not trained on yet."),
    ] = None,
) -> None:
    """Search, fit, evaluate and register a new version as `challenger`."""
    from tabship.training.inbox import pending

    if inbox is None:
        _train_once(ctx, use_case, trials, feature_version, data)
        return
    if data is not None or feature_version is not None:
        raise TabshipError(
            "--inbox trains on the folder's new files: no --data or --feature-version"
        )
    usecase = get(ctx).usecase(use_case)
    registry = get(ctx).pipeline.registry
    known = registry.versions(use_case) if use_case in registry.names() else []
    trained = {str(v.tags.get("raw_data_version")) for v in known}
    files = pending(inbox, usecase.source.pattern, trained)
    if not files:
        console.print(f"no new file in {inbox}: every file there has trained a version")
        return
    for file in files:
        console.print(f"[bold]new file {file.name}[/bold]")
        _train_once(ctx, use_case, trials, None, file)


def _train_once(
    ctx: typer.Context,
    use_case: str,
    trials: int | None,
    feature_version: int | None,
    data: Path | None,
) -> None:
    """One run, after building features from ``data`` when given."""
    from tabship.cli.features import build_cmd

    c = get(ctx)
    if data is not None:
        build_cmd(ctx, use_case, data=data)
        feature_version = None
    spec = c.usecase(use_case).training
    planned = trials or (spec.trials if spec is not None else 1)
    with progress() as bar:
        stage = bar.add_task("starting", total=len(STAGES))
        search = bar.add_task("search trials", total=planned, visible=False)

        def step(name: str) -> None:
            done = sum(name.startswith(s) for s in STAGES[1:])
            bar.update(stage, description=name, advance=done)
            bar.update(search, visible=name.startswith("searching"))

        def trial(number: int, value: float) -> None:
            bar.update(search, advance=1, description=f"trial {number + 1}: {value:.4f}")

        result = c.pipeline.train(
            use_case, feature_version=feature_version, trials=trials, step=step, on_trial=trial
        )
    m, b = result.metrics, result.baseline
    table = Table(
        title=f"{result.model_name} version {result.version} ({result.family})", show_header=True
    )
    table.add_column("metric (test split)")
    table.add_column("this model", justify="right")
    table.add_column("baseline", justify="right")
    for name in ("mae", "rmse", "r2", "mape", "pr_auc", "precision", "recall", "accuracy"):
        if name in m and name in b:
            table.add_row(name, f"{m[name]:,.4f}", f"{b[name]:,.4f}")
    if "roc_auc" in m:
        table.add_row("roc_auc", f"{m['roc_auc']:.4f}", "")
        table.add_row("threshold", f"{m['threshold']:.4f}", "0.5")
    console.print(table)
    console.print(f"run {result.run_id}, feature table version {result.feature_version}")
    runtime = "ONNX Runtime" if result.runtime == "onnx" else "the native model"
    console.print(f"  served by {runtime} ({result.runtime_reason})")
    for gate in result.gates:
        console.print(f"  gate {gate.describe()}")
    verdict = (
        "passed its gates" if result.gates_passed else "FAILED a gate (approval needs --override)"
    )
    console.print(
        f"version {result.version} is now '{vocab.CHALLENGER}' and {verdict}. "
        "To make it champion:\n"
        f"  tabship models approve {result.model_name} {result.version} --by NAME --reason TEXT"
    )
