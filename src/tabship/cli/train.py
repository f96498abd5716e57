"""``tabship train``: one tracked, registered training run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tabship.cli.context import console, get, progress

app = typer.Typer()


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
) -> None:
    """Search, fit, evaluate and register a new version as `challenger`."""
    from tabship.cli.features import build_cmd
    from tabship.cli.models import publish
    from tabship.training.train import train

    c = get(ctx)
    usecase = c.usecase(use_case)
    if data is not None:
        build_cmd(ctx, use_case, data=data)
        feature_version = None
    with progress() as bar:
        task = bar.add_task("starting", total=None)
        result = train(
            usecase,
            c.settings,
            feature_version=feature_version,
            trials=trials,
            step=lambda s: bar.update(task, description=s),
            on_trial=lambda n, v: bar.update(task, description=f"trial {n + 1}: {v:.4f}"),
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
    for gate in result.gates:
        console.print(f"  gate {gate.describe()}")
    verdict = (
        "passed its gates" if result.gates_passed else "FAILED a gate (approval needs --override)"
    )
    publish(c.settings, None)
    console.print(
        f"version {result.version} is now 'challenger' and {verdict}. To make it champion:\n"
        f"  tabship models approve {result.model_name} {result.version} --by NAME --reason TEXT"
    )
