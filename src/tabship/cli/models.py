"""``tabship models``: the registry, and the manual approval gate."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tabship.cli.context import console, get
from tabship.registry import vocabulary as vocab

app = typer.Typer(
    help="Model registry: list versions, approve or reject them.", no_args_is_help=True
)

Name = Annotated[str, typer.Argument(help="Model name (the use case).")]
Version = Annotated[str, typer.Argument(help="Version number (or an alias).")]
By = Annotated[str, typer.Option("--by", help="Who decides (recorded; required).")]
Reason = Annotated[str, typer.Option("--reason", help="Why (recorded; required).")]


@app.command("approve")
def approve_cmd(
    ctx: typer.Context,
    name: Name,
    version: Version,
    by: By = "",
    reason: Reason = "",
    override: Annotated[
        bool, typer.Option(help="Approve despite failed gates (recorded).")
    ] = False,
) -> None:
    """Make a version the champion: the only way it happens."""
    decision = get(ctx).pipeline.approve(name, version, by, reason, override)
    was = decision.previous_champion or "none"
    console.print(
        f"{name} version {decision.version} is champion (was {was}); approved by {decision.by}"
        f" at {decision.at}{' with override' if override else ''}"
    )


@app.command("reject")
def reject_cmd(
    ctx: typer.Context,
    name: Name,
    version: Version,
    by: By = "",
    reason: Reason = "",
) -> None:
    """Record that a person refused a version."""
    decision = get(ctx).pipeline.reject(name, version, by, reason)
    console.print(f"{name} version {decision.version} rejected by {decision.by} at {decision.at}")


@app.command("sync")
def sync_cmd(ctx: typer.Context) -> None:
    """Copy the registry's servable state into the local model repository now."""
    c = get(ctx)
    models = c.pipeline.publish()
    console.print(f"synced {', '.join(models) or 'no models'} into {c.settings.serving_dir}")


@app.command("resolve")
def resolve_cmd(ctx: typer.Context, name: Name, version: Version) -> None:
    """Print the version number an alias names (for scripts: CT approves what it trained)."""
    typer.echo(get(ctx).pipeline.registry.resolve(name, version).version)


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Model name (default: all).")] = None,
) -> None:
    """Versions, aliases, gate results and approval history."""
    registry = get(ctx).pipeline.registry
    for model in [name] if name else registry.names():
        aliases = registry.aliases(model)
        by_version: dict[str, list[str]] = {}
        for alias, version in aliases.items():
            by_version.setdefault(str(version), []).append(alias)
        table = Table(
            "version",
            "aliases",
            "family",
            "metrics (test)",
            "gates",
            "approval",
            title=f"model {model}",
        )
        for mv in registry.versions(model):
            tags = mv.tags
            gates = "passed" if vocab.gates_passed(tags) else f"FAILED: {vocab.gates_failed(tags)}"
            approval = vocab.status_of(tags)
            if approval in (vocab.APPROVED, vocab.REJECTED):
                decided = vocab.approval_of(tags)
                approval += f" by {decided.get('by')} ({decided.get('reason')})"
            table.add_row(
                str(mv.version),
                ", ".join(by_version.get(str(mv.version), [])),
                tags.get("family", ""),
                _metrics(tags),
                gates,
                approval,
            )
        console.print(table)
        for event in registry.history(model):
            console.print(
                f"  {event['at']} {event['action']} v{event['version']} by {event['by']}"
                f"{' (override)' if event.get('override') else ''}: {event['reason']}"
            )


def _metrics(tags: dict[str, str]) -> str:
    """The headline test metrics of a version, whatever its task."""
    metrics = vocab.metrics_of(tags)
    shown = ("pr_auc", "roc_auc") if "pr_auc" in metrics else ("rmse", "mae", "r2")
    values = {m: metrics[m] for m in shown if m in metrics}
    return ", ".join(
        f"{m} {v:,.0f}" if abs(v) >= 1000 else f"{m} {v:.4f}" for m, v in values.items()
    )


@app.command("report")
def report_cmd(
    ctx: typer.Context,
    name: Name,
    version: Version,
    out: Annotated[Path, typer.Option(help="Folder to copy the evaluation report into.")],
) -> None:
    """Copy a version's evaluation report (Markdown and plots) out of the tracking store."""
    import mlflow

    from tabship.registry.client import tracking_uri

    c = get(ctx)
    mv = c.pipeline.registry.resolve(name, version)
    mlflow.set_tracking_uri(tracking_uri(c.settings))
    out.mkdir(parents=True, exist_ok=True)
    folder = mlflow.artifacts.download_artifacts(
        run_id=mv.run_id, artifact_path="report", dst_path=str(out)
    )
    console.print(f"report of {name} version {mv.version} in {folder}")
