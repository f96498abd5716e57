"""Benchmark: the prediction and feature APIs against `mlflow models serve` and two floors.

Run by ``make bench-serving``. One credit_risk champion (200k generated loans, the demo's
search) is served, one worker each, by: tabship; ``mlflow models serve``; a bare FastAPI
app calling the champion's ONNX graph; a bare FastAPI handler that only parses and
returns JSON. Load comes from wrk in its own process on 127.0.0.1. Also measured: cold
start to first answer, resident memory after load, and the size of a ``[serve]`` install.
Writes a section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from bench.results import write_section
from bench.serve_install import install_serve, size_mb

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "bench" / ".work"
BIN = Path(sys.executable).parent
SECTION = "## Serving (credit_risk)"
NAME = "credit_risk"


@dataclass
class Load:
    """One load run's latency percentiles and throughput."""

    p50_ms: float
    p99_ms: float
    rps: float


@dataclass
class Server:
    """A server under test: how to start it and what to send it."""

    label: str
    args: list[str]
    url: str
    body: str
    env: dict[str, str] = field(default_factory=dict)
    results: dict[str, Load] = field(default_factory=dict)
    cold_start_s: float = 0.0
    rss_mb: float = 0.0


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _home(rows: int, trials: int) -> Path:
    """A home with features, a materialised store and an approved champion (cached)."""
    from bench.bench_features import _source
    from tabship.pipeline import Pipeline
    from tabship.settings import Settings

    home = WORK / f"serving-{rows}-{trials}"
    settings = Settings(home=home, usecases=REPO / "examples")
    if (home / "serving" / NAME / "state.json").exists():
        return home
    shutil.rmtree(home, ignore_errors=True)
    pipeline = Pipeline(settings)
    pipeline.build(NAME, [_source(rows)])
    pipeline.materialize(NAME)
    print("training the champion …", flush=True)
    result = pipeline.train(NAME, trials=trials)
    pipeline.approve(NAME, result.version, by="bench", reason="benchmark", override=True)
    return home


def _wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True)
        found = shutil.which("wrk")
    assert found is not None
    return found


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def _load(wrk: str, url: str, body: str | None, connections: int, seconds: int) -> Load:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        if body is not None:
            script.write(
                f'wrk.method = "POST"\nwrk.body = {json.dumps(body)}\n'
                'wrk.headers["Content-Type"] = "application/json"\n'
            )
    args = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script.name, url]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    os.unlink(script.name)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{url}: {errors.group(1)} failed responses\n{out}")
    if not (p50 and p99 and rps):
        raise RuntimeError(f"cannot read wrk's output:\n{out}")
    return Load(_ms(p50.group(1)), _ms(p99.group(1)), float(rps.group(1)))


def _start(server: Server) -> subprocess.Popen[bytes]:
    started = time.perf_counter()
    process = subprocess.Popen(
        server.args,
        env={**os.environ, **server.env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=REPO,
    )
    deadline = started + 120
    while True:
        try:
            got = httpx.post(
                server.url, content=server.body, headers={"content-type": "application/json"}
            )
            if got.status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.perf_counter() > deadline:
            raise RuntimeError(f"{server.label} did not start: {' '.join(server.args)}")
        time.sleep(0.02)
    server.cold_start_s = time.perf_counter() - started
    return process


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()


def _rss_mb(process: subprocess.Popen[bytes]) -> float:
    parent = psutil.Process(process.pid)
    procs = [parent, *parent.children(recursive=True)]
    return float(sum(p.memory_info().rss for p in procs if p.is_running())) / 2**20


def _serve_install_mb() -> float:
    """Size of a fresh venv holding the locked ``[serve]`` set (the serving image's)."""
    with tempfile.TemporaryDirectory() as tmp:
        venv = Path(tmp) / "venv"
        install_serve(venv)
        return size_mb(venv)


def _servers(home: Path) -> tuple[list[Server], str]:
    from tabship.serving.models.mirror import Repository
    from tabship.settings import Settings
    from tabship.stores.online import open_online_store

    settings = Settings(home=home, usecases=REPO / "examples")
    repo = Repository(settings.serving_dir)
    state = repo.read_state(NAME)
    assert state is not None
    champion = state.aliases["champion"]
    meta = repo.read_meta(NAME, champion)
    store = open_online_store(settings)
    key = store.keys(NAME, 1)[0]
    row = store.get(NAME, key) or {}
    store.close()
    features = {f: row.get(f) for f in meta["features"]}
    by_id = json.dumps({"id": int(key)})
    tabship_env = {"TABSHIP_HOME": str(home), "TABSHIP_USECASES": str(REPO / "examples")}
    uvicorn = [str(BIN / "uvicorn"), "--log-level", "warning", "--no-access-log"]
    ports = [_port() for _ in range(4)]
    servers = [
        Server(
            "tabship",
            [sys.executable, "-m", "tabship", "serve", "--port", str(ports[0])],
            f"http://127.0.0.1:{ports[0]}/v1/models/{NAME}/predict",
            by_id,
            tabship_env,
        ),
        Server(
            "mlflow models serve",
            [
                str(BIN / "mlflow"),
                "models",
                "serve",
                "-m",
                f"models:/{NAME}/{champion}",
                "-p",
                str(ports[1]),
                "--env-manager",
                "local",
                "-w",
                "1",
            ],
            f"http://127.0.0.1:{ports[1]}/invocations",
            json.dumps({"dataframe_records": [features]}),
            {  # its scoring server runs `uvicorn` from PATH
                "MLFLOW_TRACKING_URI": f"sqlite:///{home / 'mlflow.db'}",
                "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
            },
        ),
        Server(
            "floor: FastAPI + ONNX Runtime",
            [*uvicorn, "--port", str(ports[2]), "bench.serving_floors:onnx_app"],
            f"http://127.0.0.1:{ports[2]}/predict",
            json.dumps(features),
            {"BENCH_ONNX": str(repo.version_dir(NAME, champion) / "model.onnx")},
        ),
        Server(
            "floor: bare FastAPI handler",
            [*uvicorn, "--port", str(ports[3]), "bench.serving_floors:bare_app"],
            f"http://127.0.0.1:{ports[3]}/predict",
            by_id,
        ),
    ]
    return servers, key


def _scenarios(
    server: Server, servers: list[Server], key: str
) -> dict[str, tuple[str, str | None, int]]:
    """Scenario → (url, body, connections) for one server."""
    found: dict[str, tuple[str, str | None, int]] = {
        "c1": (server.url, server.body, 1),
        "c32": (server.url, server.body, 32),
    }
    if server.label == "tabship":
        base = server.url.split("/v1/")[0]
        found["features c1"] = (f"{base}/v1/features/{NAME}/{key}", None, 1)
        found["payload c1"] = (server.url, servers[2].body, 1)
    return found


def _median(loads: list[Load]) -> Load:
    return Load(
        statistics.median(x.p50_ms for x in loads),
        statistics.median(x.p99_ms for x in loads),
        statistics.median(x.rps for x in loads),
    )


def _measure(
    servers: list[Server], key: str, wrk: str, seconds: int, warmup: int, rounds: int
) -> dict[str, float]:
    """Start every server (one at a time, timing its cold start), then load them in
    interleaved rounds and keep each scenario's median: the machine's drift falls on all."""
    processes: list[subprocess.Popen[bytes]] = []
    extra: dict[str, float] = {}
    try:
        for server in servers:
            print(f"starting {server.label} …", flush=True)
            processes.append(_start(server))
            # Steady state: a discarded warm-up first (tabship's sync worker, for one, is
            # still importing MLflow right after the start).
            _load(wrk, server.url, server.body, 4, warmup)
        runs: dict[tuple[str, str], list[Load]] = {}
        for round_ in range(1, rounds + 1):
            for server in servers:
                for scenario, (url, body, connections) in _scenarios(server, servers, key).items():
                    load = _load(wrk, url, body, connections, seconds)
                    runs.setdefault((server.label, scenario), []).append(load)
                    print(f"  round {round_} {server.label} {scenario}: {load}", flush=True)
        for server, process in zip(servers, processes, strict=True):
            for scenario in _scenarios(server, servers, key):
                server.results[scenario] = _median(runs[(server.label, scenario)])
            server.rss_mb = _rss_mb(process)
            if server.label == "tabship":
                extra["api_rss_mb"] = psutil.Process(process.pid).memory_info().rss / 2**20
    finally:
        for process in processes:
            _stop(process)
    return extra


def _row(server: Server, scenario: str) -> str:
    load = server.results[scenario]
    return (
        f"| {server.label} ({scenario}) | {load.p50_ms:.3f} | {load.p99_ms:.3f} | "
        f"{load.rps:,.0f} | {server.cold_start_s:.2f} | {server.rss_mb:,.0f} |"
    )


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def report(
    servers: list[Server], extra: dict[str, float], install_mb: float, args: argparse.Namespace
) -> list[str]:
    """The serving section of docs/benchmarks.md, from this run's figures."""
    from bench.bench_features import _machine

    ours, mlflow, onnx, bare = servers
    targets = [
        (
            "prediction by id, p50 at c=1 ≤ 1.5× the bare handler's",
            ours.results["c1"].p50_ms / bare.results["c1"].p50_ms,
            1.5,
            "×",
        ),
        ("prediction by id, p99 at c=1 ≤ 3 ms", ours.results["c1"].p99_ms, 3.0, " ms"),
        ("feature API, p99 at c=1 ≤ 1 ms", ours.results["features c1"].p99_ms, 1.0, " ms"),
        ("cold start to first answer ≤ 3 s", ours.cold_start_s, 3.0, " s"),
        ("`[serve]` install ≤ 300 MB", install_mb, 300.0, " MB"),
    ]
    floors = [
        (
            "throughput at c=32 ≥ 30× `mlflow models serve`",
            ours.results["c32"].rps / mlflow.results["c32"].rps,
            30.0,
            "×",
        ),
        (
            "throughput at c=32 ≥ 70% of the bare handler's",
            ours.results["c32"].rps / bare.results["c32"].rps,
            0.7,
            "×",
        ),
    ]
    lines = [
        "",
        f"Measured {dt.date.today().isoformat()} on {_machine()}; `make bench-serving`.",
        f"One credit_risk champion ({args.rows:,} generated loans, {args.trials}-trial search),",
        "one worker per server, load from `wrk -t1` on 127.0.0.1 for "
        f"{args.seconds} s per run after a {args.warmup} s warm-up; all servers up at once and "
        f"loaded in {args.rounds} interleaved rounds, medians shown. "
        f'tabship and the bare handler get `{{"id": …}}` (tabship '
        "looks the features up in the online store); mlflow and the ONNX floor get the features.",
        "",
        "| server (scenario) | p50 ms | p99 ms | req/s | cold start s | RSS MB |",
        "|---|---:|---:|---:|---:|---:|",
        _row(ours, "c1"),
        _row(ours, "c32"),
        _row(ours, "payload c1"),
        _row(ours, "features c1"),
        _row(mlflow, "c1"),
        _row(mlflow, "c32"),
        _row(onnx, "c1"),
        _row(onnx, "c32"),
        _row(bare, "c1"),
        _row(bare, "c32"),
        "",
        f"tabship's RSS includes its registry sync worker (a separate process importing MLflow);"
        f" the API process alone: {extra['api_rss_mb']:,.0f} MB. On this shared 2-core machine"
        " single runs of the same server differ by up to ±15%; the ratios below are of medians.",
        "",
        "| target | measured | |",
        "|---|---:|---|",
    ]
    for name, value, limit, unit in targets:
        lines.append(f"| {name} | {value:.2f}{unit} | {_verdict(value <= limit)} |")
    for name, value, limit, unit in floors:
        lines.append(f"| {name} | {value:.2f}{unit} | {_verdict(value >= limit)} |")
    return lines


def main() -> None:
    """Start each server, load it with wrk, and record the results."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    home = _home(args.rows, args.trials)
    wrk = _wrk()
    servers, key = _servers(home)
    extra = _measure(servers, key, wrk, args.seconds, args.warmup, args.rounds)
    print("measuring a [serve] install …", flush=True)
    install_mb = _serve_install_mb()
    lines = report(servers, extra, install_mb, args)
    print("\n".join(lines))
    print(f"wrote {write_section(SECTION, lines)}")


if __name__ == "__main__":
    main()
