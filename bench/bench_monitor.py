"""Benchmark: the drift report over a million logged predictions, against Evidently.

Run by ``make bench-monitor``. 200,000 training rows × 50 inputs (45 numbers, 5 text) make
a version's profile; 1,000,000 predictions are logged in the service's own JSON-lines
format, with three inputs shifted and one text input given a level training never saw.
Measured, each in a fresh process (peak RSS from the kernel): ``tabship monitor drift``'s
work (read, bin, PSI, report with plots) over the JSON lines, the same after the days are
compacted to Parquet, and Evidently's data-drift preset over the same rows (reference: the
training rows; installed into a throw-away virtualenv, not a project dependency).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.results import write_section
from bench.serve_install import UV
from tabship.monitoring.logread import LogScan, compact, connect

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "bench" / ".work" / "monitor"
NUMBERS, TEXTS = 45, 5
SHIFTED = ("x0", "x1", "x2")
NEW_LEVEL = "t0"
EVIDENTLY = ("evidently==0.7.*", "pandas<3")  # its 0.7 line imports pandas 2 internals
DAY = dt.date(2026, 11, 2)


def _frame(n: int, seed: int, shift: bool) -> dict[str, Any]:
    """``n`` rows of 50 inputs (and a score); ``shift`` moves three numbers and adds a level."""
    rng = np.random.default_rng(seed)
    data: dict[str, Any] = {}
    for j in range(NUMBERS):
        x = rng.normal(j, 1 + j % 5, n)
        if shift and f"x{j}" in SHIFTED:
            x = x + (1 + j % 5)  # one standard deviation
        x[rng.random(n) < 0.05 * (j % 3)] = np.nan
        data[f"x{j}"] = x
    for j in range(TEXTS):
        levels = np.array([f"level{k}" for k in range(4 + 3 * j)])
        values = rng.choice(levels, n).astype(object)
        if shift and f"t{j}" == NEW_LEVEL:
            values[rng.random(n) < 0.03] = "never-seen"
        data[f"t{j}"] = values
    data["score"] = 1 / (1 + np.exp(-rng.normal(-2, 1, n)))
    return data


def _inputs() -> list[str]:
    return [f"x{j}" for j in range(NUMBERS)] + [f"t{j}" for j in range(TEXTS)]


def prepare(rows: int) -> tuple[Path, Path]:
    """The profile (from training rows, with a Parquet copy for Evidently) and the log."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from tabship.monitoring.profile import make_profile
    from tabship.serving.predlog import Entry

    WORK.mkdir(parents=True, exist_ok=True)
    train = _frame(200_000, 1, shift=False)
    columns = {name: train[name] for name in _inputs()}
    text = {n for n in columns if n.startswith("t")}
    profile = make_profile(
        {n: list(v) if n in text else v for n, v in columns.items()},
        text,
        train["score"],
        10,
        200_000,
    )
    profile.write(WORK)
    pq.write_table(pa.table({n: train[n] for n in [*_inputs(), "score"]}), WORK / "train.parquet")
    log = WORK / "predictions" / "m"
    shutil.rmtree(log, ignore_errors=True)  # a rerun starts from lines, not last run's Parquet
    log.mkdir(parents=True)
    live = _frame(rows, 2, shift=True)
    pq.write_table(pa.table({n: live[n] for n in [*_inputs(), "score"]}), WORK / "live.parquet")
    names, start = _inputs(), dt.datetime.combine(DAY, dt.time(), dt.UTC).timestamp()
    matrix = [live[n].tolist() for n in names]
    with (log / f"{DAY}.jsonl").open("wb") as handle:
        for i in range(rows):
            values = [col[i] for col in matrix]
            entry = Entry(
                f"r{i}",
                start + i * 0.05,
                "m",
                "1",
                "champion",
                False,
                i,
                names,
                values,
                float(live["score"][i]),
                0.001,
            )
            handle.write(entry.as_json() + b"\n")
    return WORK, log


def child_drift(folder: str) -> None:
    """One drift report (what ``tabship monitor drift`` does after fetching profiles)."""
    from tabship.monitoring import drift_report
    from tabship.monitoring.drift import measure
    from tabship.monitoring.profile import Profile
    from tabship.usecase.monitoring import MonitoringSpec

    started = time.perf_counter()
    profiles = {"1": Profile.load(WORK)}
    result = measure(_connect(), LogScan(Path(folder)), "m", profiles, MonitoringSpec())
    drift_report.write(result, WORK / "report")
    seconds = time.perf_counter() - started
    failed = [d.name for d in result.versions[0].failed]
    rows = result.versions[0].rows
    print(json.dumps({"seconds": seconds, "rows": rows, "failed": failed, "rss_gib": _rss()}))


def child_compact(folder: str) -> None:
    """Compact the log's days into Parquet."""
    started = time.perf_counter()
    done = compact(_connect(), Path(folder), DAY + dt.timedelta(days=1))
    size = sum(c.path.stat().st_size for c in done) / 2**20
    print(json.dumps({"seconds": time.perf_counter() - started, "mb": size, "rss_gib": _rss()}))


def _connect() -> Any:
    """The connection ``tabship monitor`` opens, with the default settings."""
    from tabship.settings import Settings

    settings = Settings(home=WORK / "home")
    return connect(settings.duckdb_memory_limit, settings.scratch_dir, settings.duckdb_threads)


def _rss() -> float:
    """This process's peak resident memory, in GiB: the kernel's VmHWM (ru_maxrss would
    carry over the parent's peak through fork and exec)."""
    return _hwm(Path("/proc/self/status").read_text())


def _hwm(status: str) -> float:
    line = next(x for x in status.splitlines() if x.startswith("VmHWM:"))
    return int(line.split()[1]) / 2**20  # kB


EVIDENTLY_SCRIPT = """
import json, sys, time
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
t0 = time.perf_counter()
reference = pd.read_parquet(sys.argv[1]); current = pd.read_parquet(sys.argv[2])
report = Report([DataDriftPreset()]).run(reference_data=reference, current_data=current)
report.save_html(sys.argv[3])
seconds = time.perf_counter() - t0
status = open("/proc/self/status").read().splitlines()
kb = int(next(x for x in status if x.startswith("VmHWM:")).split()[1])
print(json.dumps({"seconds": seconds, "rss_gib": kb / 2**20}))
"""


def _measured(command: list[str], timeout: float) -> dict[str, Any]:
    """Run a child; its JSON answer (seconds, peak RSS in GiB), or a timeout."""
    started = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"seconds": timeout, "timeout": True, "rss_gib": float("nan")}
    if done.returncode != 0:
        raise RuntimeError(f"{command[:3]} failed: {done.stderr[-2000:]}")
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    answer["wall"] = time.perf_counter() - started
    return answer


def _evidently_version() -> str:
    python = WORK / "evidently-venv" / "bin" / "python"
    code = "import importlib.metadata as m; print(m.version('evidently'))"
    found = subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True)
    return found.stdout.strip()


def _evidently_python() -> Path:
    venv = WORK / "evidently-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([str(UV), "venv", "-q", "-p", sys.executable, str(venv)], check=True)
        subprocess.run(
            [str(UV), "pip", "install", "-q", "--python", str(python), *EVIDENTLY, "pyarrow"],
            check=True,
        )
    return python


def main() -> None:
    """Prepare the data, measure the three runs, write the section."""
    from bench.bench_features import _machine

    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--child", choices=["drift", "compact"])
    parser.add_argument("--folder")
    parser.add_argument("--evidently-timeout", type=float, default=1200)
    args = parser.parse_args()
    if args.child:
        (child_drift if args.child == "drift" else child_compact)(args.folder)
        return
    print(f"writing {args.rows:,} logged predictions × {NUMBERS + TEXTS} inputs", flush=True)
    _, log = prepare(args.rows)
    me = [sys.executable, "-m", "bench.bench_monitor", "--folder", str(log), "--child"]
    lines_mb = sum(p.stat().st_size for p in log.glob("*.jsonl")) / 2**20
    print("drift over the JSON lines", flush=True)
    on_lines = _measured([*me, "drift"], 600)
    print(on_lines, "\ncompacting", flush=True)
    compacted = _measured([*me, "compact"], 600)
    print(compacted, "\ndrift over Parquet", flush=True)
    on_parquet = _measured([*me, "drift"], 600)
    print(on_parquet, "\nEvidently", flush=True)
    python = _evidently_python()
    script = WORK / "evidently_drift.py"
    script.write_text(EVIDENTLY_SCRIPT)
    args_ev = [str(python), str(script), str(WORK / "train.parquet"), str(WORK / "live.parquet")]
    evidently = _measured([*args_ev, str(WORK / "evidently.html")], args.evidently_timeout)
    print(evidently, flush=True)
    lines = _section(args.rows, lines_mb, on_lines, compacted, on_parquet, evidently, _machine())
    print("\n".join(lines))
    print(f"wrote {write_section('## Monitoring (drift report)', lines)}")


def _section(
    rows: int,
    lines_mb: float,
    on_lines: dict[str, Any],
    compacted: dict[str, Any],
    on_parquet: dict[str, Any],
    evidently: dict[str, Any],
    machine: str,
) -> list[str]:
    ev = "did not finish in " if evidently.get("timeout") else ""
    ratio = evidently["seconds"] / on_lines["seconds"]
    met = on_lines["seconds"] <= 20 and on_lines["rss_gib"] <= 2
    return [
        "",
        f"Measured {dt.date.today().isoformat()} on {machine} by `make bench-monitor`.",
        f"{rows:,} logged predictions × {NUMBERS + TEXTS} inputs ({NUMBERS} numbers, {TEXTS} "
        f"text; {lines_mb:,.0f} MB of JSON lines as the service writes them), against a "
        "profile of 200,000 training rows. Three numbers are shifted and one text input "
        f"gets a level training never saw; flagged: {', '.join(on_lines['failed'])}. Each run "
        "in a fresh process; peak RSS is the kernel's high-water mark (VmHWM).",
        "",
        "| run | time (s) | peak RSS (GiB) |",
        "| --- | ---: | ---: |",
        f"| tabship drift report over the JSON lines (read, bin, PSI, Markdown/HTML/JSON "
        f"report with plots) | {on_lines['seconds']:.1f} | {on_lines['rss_gib']:.2f} |",
        f"| compacting the day into Parquet ({compacted['mb']:.0f} MB) | "
        f"{compacted['seconds']:.1f} | {compacted['rss_gib']:.2f} |",
        f"| tabship drift report over the Parquet day | {on_parquet['seconds']:.1f} | "
        f"{on_parquet['rss_gib']:.2f} |",
        f"| Evidently {_evidently_version()} data-drift preset, same rows (reference: the "
        f"training rows) | {ev}{evidently['seconds']:.1f} | {evidently['rss_gib']:.2f} |",
        "",
        f"tabship's report takes 1/{ratio:.0f} of Evidently's time on the same data.",
        "",
        "| target | measured | |",
        "|---|---:|---|",
        f"| drift report ≤ 20 s and peak RSS ≤ 2 GiB | {on_lines['seconds']:.1f} s, "
        f"{on_lines['rss_gib']:.2f} GiB | {'met' if met else '**missed**'} |",
        "",
    ]


if __name__ == "__main__":
    main()
