"""Benchmark: the 10M-row credit-risk feature pipeline against three baselines.

Run by ``make bench-features``. Each contender runs in its own child process so that its
peak RSS is its own; all read the same generated Parquet file. Results (with machine and
date) replace the feature section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "bench" / ".work"
DOC = REPO / "docs" / "benchmarks.md"
MEMORY_LIMIT = "1500MB"
SECTION = "## Feature pipeline (credit_risk)"


def _child(kind: str, source: Path, out: Path, rows: int) -> float:
    """Run one contender in this process; returns seconds of work (imports excluded)."""
    import pyarrow.parquet as pq

    from bench import baselines, notebook

    if kind == "tabship":
        from tabship.features.build import build_features
        from tabship.features.engine import DuckDBEngine
        from tabship.settings import Settings
        from tabship.stores.offline import OfflineStore
        from tabship.usecase import load_usecase

        settings = Settings(home=out, usecases=REPO / "examples", duckdb_memory_limit=MEMORY_LIMIT)
        usecase = load_usecase("credit_risk", settings.usecases)
        engine = DuckDBEngine(settings)
        started = time.perf_counter()
        build_features(
            usecase, [source], engine, OfflineStore(settings.offline_dir), settings.reports_dir
        )
        return time.perf_counter() - started
    started = time.perf_counter()
    if kind == "duckdb":
        out.mkdir(parents=True, exist_ok=True)
        baselines.duckdb_sql(source, out / "features.parquet", MEMORY_LIMIT, out / "tmp")
    elif kind == "pandas":
        out.mkdir(parents=True, exist_ok=True)
        baselines.pandas_vectorised(source, out / "features.parquet")
    elif kind == "notebook":
        raw = pq.read_table(source).slice(0, rows).to_pandas()
        started = time.perf_counter()
        notebook.notebook_features(raw, dt.date(2021, 10, 15), version=1)
    return time.perf_counter() - started


def _run(kind: str, source: Path, rows: int = 0) -> dict[str, float]:
    out = WORK / f"out-{kind}"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [
        sys.executable,
        "-m",
        "bench.bench_features",
        "--child",
        kind,
        "--source",
        str(source),
        "--out",
        str(out),
        "--rows",
        str(rows),
    ]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"{kind} failed (status {status})")
    seconds = json.loads(proc.stdout.read())["seconds"] if proc.stdout else float("nan")
    shutil.rmtree(out, ignore_errors=True)
    return {"seconds": seconds, "peak_rss_mib": usage.ru_maxrss / 1024}


def _source(rows: int) -> Path:
    path = WORK / f"loans-{rows}" / "loans.parquet"
    if not path.exists():
        sys.path.insert(0, str(REPO / "examples" / "credit_risk"))
        from generate import generate

        print(f"generating {rows:,} rows …", flush=True)
        generate(rows, path.parent, seed=7, dirty=0.001)
    return path


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    system = f"{platform.system()} {platform.release()}"
    return f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, {system}"


def _materialize_500k_users() -> tuple[float, int]:
    """Seconds to make 500k users' latest rows live in SQLite (after a build)."""
    from tabship.features.build import build_features
    from tabship.features.engine import DuckDBEngine
    from tabship.settings import Settings
    from tabship.stores.materialize import materialize
    from tabship.stores.offline import OfflineStore
    from tabship.stores.online.sqlite import SQLiteOnlineStore
    from tabship.usecase import load_usecase

    source = _source(10_000_000)
    home = WORK / "materialize"
    shutil.rmtree(home, ignore_errors=True)
    settings = Settings(home=home, usecases=REPO / "examples", duckdb_memory_limit=MEMORY_LIMIT)
    usecase = load_usecase("credit_risk", settings.usecases)
    engine = DuckDBEngine(settings)
    offline = OfflineStore(settings.offline_dir)
    build_features(usecase, [source], engine, offline, settings.reports_dir)
    store = SQLiteOnlineStore(settings.online_sqlite_path)
    result = materialize(usecase, offline, store, settings)
    shutil.rmtree(home, ignore_errors=True)
    print(f"materialised {result.rows:,} users in {result.seconds:.1f} s", flush=True)
    return result.seconds * 500_000 / result.rows, result.rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child")
    parser.add_argument("--source", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--loop-rows", type=int, nargs=2, default=[50_000, 100_000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.child:
        print(json.dumps({"seconds": _child(args.child, args.source, args.out, args.rows)}))
        return
    WORK.mkdir(parents=True, exist_ok=True)
    source = _source(args.rows)
    results = {}
    for kind in ("duckdb", "tabship", "pandas"):
        print(f"running {kind} on {args.rows:,} rows …", flush=True)
        results[kind] = _run(kind, source)
        print(
            f"  {results[kind]['seconds']:.1f} s, peak RSS {results[kind]['peak_rss_mib']:.0f} MiB"
        )
    # The notebook's loop is quadratic (each user filters the whole frame): time two sample
    # sizes, fit t = a*n^2 + b*n, extrapolate to the full size.
    small, large = args.loop_rows
    t_small = _run("notebook", source, small)["seconds"]
    t_large = _run("notebook", source, large)["seconds"]
    a = (t_large / large - t_small / small) / (large - small)
    b = t_small / small - a * small
    loop = max(a, 0) * args.rows**2 + b * args.rows
    print(
        f"notebook loop: {small:,} rows {t_small:.1f} s, {large:,} rows {t_large:.1f} s "
        f"→ {args.rows:,} rows ≈ {loop / 3600:.1f} h"
    )
    per_500k, users = _materialize_500k_users()
    _write(
        args.rows, args.repeats, results, (small, t_small, large, t_large, loop), per_500k, users
    )


def _write(
    rows: int,
    repeats: int,
    results: dict[str, dict[str, float]],
    loop: tuple[float, ...],
    per_500k: float,
    users: int,
) -> None:
    base = results["duckdb"]["seconds"]
    small, t_small, large, t_large, full = loop
    lines = [
        SECTION,
        "",
        f"Measured {dt.date.today().isoformat()} on {_machine()} by `make bench-features`.",
        f"Input: {rows:,} generated loans (Parquet, 0.1% broken rows). Each contender runs in its "
        f"own process, {repeats} times interleaved; the time is the median (range in brackets), "
        "imports excluded; ratios are against the bare DuckDB query of the same run. DuckDB "
        f"memory limit {MEMORY_LIMIT} for both DuckDB contenders.",
        "",
        "| contender | time (s) | × bare DuckDB | peak RSS (MiB) |",
        "| --- | ---: | ---: | ---: |",
    ]
    names = {
        "duckdb": "bare DuckDB SQL (features only, Parquet out)",
        "tabship": "**tabship** (contract + quarantine + features + Delta commit)",
        "pandas": "vectorised pandas (features only, Parquet out)",
    }
    for kind, label in names.items():
        r = results[kind]
        lines.append(
            f"| {label} | {r['seconds']:.1f} | {r['seconds'] / base:.2f} | "
            f"{r['peak_rss_mib']:.0f} |"
        )
    lines.append(
        f"| notebook loop (extrapolated, quadratic fit) | {full:,.0f} | {full / base:,.0f} | – |"
    )
    lines += [
        "",
        f"Notebook loop samples: {small:,} rows in {t_small:.1f} s, {large:,} rows in "
        f"{t_large:.1f} s; fitted t = a·n² + b·n and extrapolated to {rows:,} rows "
        f"(≈ {full / 3600:.1f} h).",
        "",
        f"Materialising the online store (SQLite): {users:,} users in this run, "
        f"{per_500k:.1f} s per 500k users.",
        "",
    ]
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n\n"
    if SECTION in text:
        head, _, rest = text.partition(SECTION)
        tail = rest[rest.find("\n## ") + 1 :] if "\n## " in rest else ""
        text = head + "\n".join(lines) + ("\n" + tail if tail else "")
    else:
        text = text.rstrip() + "\n\n" + "\n".join(lines)
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(text)
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
