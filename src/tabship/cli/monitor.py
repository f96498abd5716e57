"""``tabship monitor``: drift and performance of the served versions, read off the prediction
log; ``compact`` turns closed days of the log into Parquet."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from tabship.cli.context import console, get
from tabship.errors import TabshipError
from tabship.monitoring.logread import Window
from tabship.monitoring.performance import By, Labels, Period
from tabship.registry import vocabulary as vocab
from tabship.settings import Settings
from tabship.usecase import UseCase

app = typer.Typer(no_args_is_help=True, help="Drift and performance of served versions.")
DRIFT_EXIT = 3  # a threshold is crossed (1 stays an error: CI and CT can tell them apart)

UseCaseArg = Annotated[str, typer.Argument(help="Use case whose predictions are read.")]
Versions = Annotated[
    list[str] | None, typer.Option("--version", help="Only these versions (repeatable).")
]
Since = Annotated[str | None, typer.Option(help="From this UTC date or time (ISO 8601).")]
Until = Annotated[str | None, typer.Option(help="Up to this UTC date or time, excluded.")]
Days = Annotated[int | None, typer.Option(min=1, help="The last N days (instead of --since).")]
Out = Annotated[Path | None, typer.Option(help="Report folder (default: under the home).")]


@app.command("drift")
def drift_cmd(
    ctx: typer.Context,
    use_case: UseCaseArg,
    version: Versions = None,
    since: Since = None,
    until: Until = None,
    days: Days = None,
    out: Out = None,
) -> None:
    """PSI per input and for the score against each version's profile; exits 3 on drift."""
    from tabship.monitoring import drift_report as report
    from tabship.monitoring.drift import measure
    from tabship.monitoring.logread import LogScan

    c = get(ctx)
    usecase = c.usecase(use_case)
    window = _window(since, until, days)
    registry = c.pipeline.registry
    if usecase.name not in registry.names():
        raise TabshipError(f"{usecase.name} has no registered model to monitor")
    known = [str(v.version) for v in registry.versions(usecase.name)]
    unknown = sorted(set(version or []) - set(known))
    if unknown:
        raise TabshipError(f"{usecase.name} has no version {', '.join(unknown)}")
    # Only the versions asked for need their profile fetched (each is a download).
    profiles = {v: registry.profile(usecase.name, v) for v in (version or known)}
    scan = LogScan(c.settings.predictions_dir / usecase.name, window)
    result = measure(_duckdb(c.settings), scan, usecase.name, profiles, usecase.monitoring, version)
    folder = out or _default_out(c.settings.home, usecase.name, "drift")
    paths = report.write(result, folder)
    for line in report.summary(result):
        console.print(line, highlight=False)
    if result.skipped_lines:
        console.print(f"{result.skipped_lines} unreadable log line(s) skipped", highlight=False)
    console.print(f"report: {paths['html']} (JSON: {paths['json']})", highlight=False)
    if result.crossed:
        sys.exit(DRIFT_EXIT)


@app.command("performance")
def performance_cmd(
    ctx: typer.Context,
    use_case: UseCaseArg,
    labels: Annotated[Path, typer.Option(help="Outcomes: a CSV or Parquet file.")],
    by: Annotated[
        By, typer.Option(help="Join by the answer's request id, or by entity and time.")
    ] = "request_id",
    key: Annotated[
        str | None, typer.Option(help="The join column (default: request_id, or the entity).")
    ] = None,
    time: Annotated[
        str | None, typer.Option(help="By entity: the labels' date or time column.")
    ] = None,
    outcome: Annotated[
        str | None, typer.Option(help="The outcome column (default: the declared target).")
    ] = None,
    period: Annotated[Period, typer.Option(help="Scores per day, week, month, or all.")] = "all",
    since: Since = None,
    until: Until = None,
    days: Days = None,
    out: Out = None,
) -> None:
    """Metrics of each version once outcomes arrive, beside its training figures."""
    from tabship.monitoring import performance_report as report
    from tabship.monitoring.logread import LogScan
    from tabship.monitoring.performance import PerformanceResult, join, score

    c = get(ctx)
    usecase = c.usecase(use_case)
    spec = _labels(usecase, labels, by, key, time, outcome)
    registry = c.pipeline.registry
    tags = {str(v.version): v.tags for v in registry.versions(usecase.name)}
    con = _duckdb(c.settings)
    scan = LogScan(c.settings.predictions_dir / usecase.name, _window(since, until, days))
    matched, unmatched = join(con, scan, spec)
    if not matched:
        raise TabshipError(f"none of the {unmatched:,} labels matches a logged prediction")
    training = usecase.training
    task = training.task if training is not None else "classification"
    cost = None if training is None else training.cost.model_dump()
    thresholds = {v: _float(t.get("threshold")) for v, t in tags.items()}
    scores = score(con, spec, task, thresholds, cost, period)
    trained = {v: vocab.metrics_of(t) for v, t in tags.items()}
    result = PerformanceResult(usecase.name, task, matched, unmatched, scores, trained)
    paths = report.write(result, out or _default_out(c.settings.home, usecase.name, "performance"))
    for line in report.summary(result):
        console.print(line, highlight=False)
    console.print(f"report: {paths['html']} (JSON: {paths['json']})", highlight=False)


@app.command("compact")
def compact_cmd(ctx: typer.Context, use_case: UseCaseArg) -> None:
    """Turn the log's closed days (before today, UTC) into Parquet, cheap to scan."""
    from tabship.monitoring.logread import compact

    c = get(ctx)
    usecase = c.usecase(use_case)
    folder = c.settings.predictions_dir / usecase.name
    done = compact(_duckdb(c.settings), folder, dt.datetime.now(dt.UTC).date())
    for day in done:
        skipped = f", {day.skipped} unreadable line(s) dropped" if day.skipped else ""
        console.print(f"{day.day}: {day.rows:,} predictions → {day.path}{skipped}", highlight=False)
    if not done:
        console.print(f"nothing to compact in {folder}", highlight=False)


def _labels(
    usecase: UseCase, path: Path, by: By, key: str | None, time: str | None, outcome: str | None
) -> Labels:
    """How to read the labels file, checked before anything runs."""
    if not path.is_file():
        raise TabshipError(f"no labels file at {path}")
    if by == "entity" and time is None:
        raise TabshipError("--by entity needs --time, the labels' date or time column")
    return Labels(
        path,
        outcome or str(usecase.target),
        usecase.target_positive if usecase.target_positive is not None else 1,
        by,
        key or ("request_id" if by == "request_id" else usecase.entity),
        time,
    )


def _duckdb(settings: Settings) -> Any:
    """A DuckDB connection within the configured memory limit, spilling to scratch."""
    from tabship.monitoring.logread import connect

    return connect(settings.duckdb_memory_limit, settings.scratch_dir, settings.duckdb_threads)


def _float(text: str | None) -> float | None:
    return None if text is None else float(text)


def _window(since: str | None, until: str | None, days: int | None) -> Window:
    """The time window the options ask for."""
    if days is not None and since is not None:
        raise TabshipError("give --since or --days, not both")
    start = _when(since, "--since")
    if days is not None:
        start = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    return Window(start, _when(until, "--until"))


def _when(text: str | None, option: str) -> dt.datetime | None:
    if text is None:
        return None
    try:
        found = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise TabshipError(f"{option} {text!r} is not an ISO 8601 date or time") from exc
    return found if found.tzinfo else found.replace(tzinfo=dt.UTC)


def _default_out(home: Path, name: str, kind: str) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return home / "reports" / name / f"{kind}-{stamp}"
