"""Benchmark: explanations served beside predictions (credit_scoring, a LightGBM champion).

Run by ``make bench-explain``. One credit_scoring champion (generated applications, a
LightGBM-only search) is served, one worker each, by: tabship from a clean ``[serve,explain]``
install; tabship from a clean ``[serve]`` install (the same version, loaded without its
explainer); a bare FastAPI app calling ``shap.TreeExplainer`` on the same LightGBM model per
request. Load comes from wrk at concurrency 1, in interleaved rounds. Writes a section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import shutil
import sys
from pathlib import Path
from typing import Any

import httpx

from bench.bench_serving import Load, Server, _load, _median, _port, _start, _stop, _wrk
from bench.results import write_section
from bench.serve_install import install_serve, size_mb

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "bench" / ".work"
BIN = Path(sys.executable).parent
SECTION = "## Explanations (credit_scoring)"
NAME = "credit_scoring"
K = 50


def _home(rows: int, trials: int) -> Path:
    """A home with features, a materialised store and an approved LightGBM champion (cached)."""
    from tabship.data.generate import generate
    from tabship.pipeline import Pipeline
    from tabship.settings import Settings

    home = WORK / f"explain-{rows}-{trials}"
    if (home / "serving" / NAME / "state.json").exists():
        return home
    shutil.rmtree(home, ignore_errors=True)
    pipeline = Pipeline(Settings(home=home, usecases=REPO / "examples"))
    usecase = pipeline.usecase(NAME)
    assert usecase.training is not None
    print(f"generating {rows:,} applications …", flush=True)
    files = generate(usecase, rows, WORK / f"credit-scoring-{rows}")
    pipeline.build(usecase, files)
    pipeline.materialize(usecase)
    print("training the LightGBM champion …", flush=True)
    training = usecase.training.model_copy(update={"families": ["lightgbm"]})
    result = pipeline.train(usecase.model_copy(update={"training": training}), trials=trials)
    assert result.family == "lightgbm", result.family
    pipeline.approve(NAME, result.version, by="bench", reason="benchmark", override=True)
    return home


def _installs() -> dict[str, tuple[Path, float]]:
    """Clean installs of the locked ``[serve]`` and ``[serve,explain]`` sets: python, MB."""
    found = {}
    for extras in (("serve",), ("serve", "explain")):
        venv = WORK / f"venv-{'-'.join(extras)}"
        shutil.rmtree(venv, ignore_errors=True)
        print(f"installing [{','.join(extras)}] into a clean virtualenv …", flush=True)
        found[",".join(extras)] = (install_serve(venv, extras), size_mb(venv))
    return found


def _model_row(home: Path) -> tuple[str, list[float | None], str]:
    """A known client's id, its row as the LightGBM model reads it, and the model's file."""
    from tabship.explain.explanation import FOLDER, VersionExplainer
    from tabship.serving.models.mirror import Repository
    from tabship.serving.models.pool import coded
    from tabship.settings import Settings
    from tabship.stores.online import open_online_store

    settings = Settings(home=home, usecases=REPO / "examples")
    repo = Repository(settings.serving_dir)
    state = repo.read_state(NAME)
    assert state is not None
    folder = repo.version_dir(NAME, state.aliases["champion"])
    meta = repo.read_meta(NAME, state.aliases["champion"])
    store = open_online_store(settings)
    key = store.keys(NAME, 1)[0]
    row = store.get(NAME, key) or {}
    store.close()
    x = coded(meta, [[row.get(f) for f in meta["features"]]])
    model = VersionExplainer.load(folder / FOLDER).columns.model_rows(x)[0]
    return key, [None if math.isnan(v) else float(v) for v in model], str(folder / FOLDER)


def _servers(home: Path, installs: dict[str, tuple[Path, float]]) -> tuple[list[Server], str]:
    key, row, folder = _model_row(home)
    bare = home.with_name(home.name + "-serve")  # its own copy: the two servers log apart
    shutil.rmtree(bare, ignore_errors=True)
    shutil.copytree(home, bare)
    by_id = json.dumps({"SK_ID_CURR": int(key)})
    ports = [_port() for _ in range(3)]

    def tabship(label: str, python: Path, at: Path, port: int, route: str) -> Server:
        return Server(
            label,
            [str(python), "-m", "tabship", "serve", "--port", str(port), "--sync", "off"],
            f"http://127.0.0.1:{port}/v1/models/{NAME}/{route}",
            by_id,
            {"TABSHIP_HOME": str(at), "TABSHIP_USECASES": str(REPO / "examples")},
        )

    servers = [
        tabship("tabship [serve,explain]", installs["serve,explain"][0], home, ports[0], "explain"),
        tabship("tabship [serve]", installs["serve"][0], bare, ports[1], "predict"),
        Server(
            "floor: FastAPI + shap.TreeExplainer",
            [
                str(BIN / "uvicorn"),
                "--log-level",
                "warning",
                "--no-access-log",
                "--port",
                str(ports[2]),
                "bench.serving_floors:shap_app",
            ],
            f"http://127.0.0.1:{ports[2]}/explain",
            json.dumps({"x": row}),
            {"BENCH_LIGHTGBM": str(Path(folder) / "lightgbm.txt")},
        ),
    ]
    return servers, key


def _scenarios(servers: list[Server], key: str) -> dict[str, tuple[str, str | None]]:
    """Scenario → (url, body); every scenario runs at concurrency 1."""
    full, bare, floor = servers
    base = full.url.rsplit("/", 1)[0]
    return {
        "explain by id": (full.url, full.body),
        "explain, bare FastAPI + shap.TreeExplainer": (floor.url, floor.body),
        "predict by id, explainer loaded": (f"{base}/predict", full.body),
        "predict by id, no explainer ([serve])": (bare.url, bare.body),
        f"similar clients, k={K}": (f"{base}/similar/{key}?k={K}", None),
    }


def _check(servers: list[Server]) -> str:
    """The [serve] install loads the version without its explainer: what /explain says."""
    _, bare, _ = servers
    answer = httpx.post(
        bare.url.replace("/predict", "/explain"),
        content=bare.body,
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == 404, answer.text
    return str(answer.json()["error"]["message"])


def measure(
    servers: list[Server], key: str, seconds: int, warmup: int, rounds: int
) -> tuple[dict[str, Load], str]:
    """Start the servers, then load each scenario in interleaved rounds; medians."""
    wrk = _wrk()
    processes = []
    runs: dict[str, list[Load]] = {}
    try:
        for server in servers:
            print(f"starting {server.label} …", flush=True)
            processes.append(_start(server))
        why = _check(servers)
        scenarios = _scenarios(servers, key)
        for url, body in scenarios.values():
            _load(wrk, url, body, 1, warmup)
        for round_ in range(1, rounds + 1):
            for name, (url, body) in scenarios.items():
                runs.setdefault(name, []).append(_load(wrk, url, body, 1, seconds))
                print(f"  round {round_} {name}: {runs[name][-1]}", flush=True)
    finally:
        for process in processes:
            _stop(process)
    return {name: _median(loads) for name, loads in runs.items()}, why


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def report(
    found: dict[str, Load],
    why: str,
    installs: dict[str, tuple[Path, float]],
    args: argparse.Namespace,
    family: dict[str, Any],
) -> list[str]:
    """The explanations section of docs/benchmarks.md, from this run's figures."""
    from bench.bench_features import _machine

    explain = found["explain by id"]
    floor = found["explain, bare FastAPI + shap.TreeExplainer"]
    loaded = found["predict by id, explainer loaded"]
    bare = found["predict by id, no explainer ([serve])"]
    similar = found[f"similar clients, k={K}"]
    serve_mb, explain_mb = installs["serve"][1], installs["serve,explain"][1]
    targets = [
        ("explain by id, p50 at c=1 ≤ 3 ms", f"{explain.p50_ms:.2f} ms", explain.p50_ms <= 3),
        ("explain by id, p99 at c=1 ≤ 10 ms", f"{explain.p99_ms:.2f} ms", explain.p99_ms <= 10),
        (
            "predict p50 with the explainer loaded within 5% of without",
            f"{loaded.p50_ms / bare.p50_ms:.3f}×",
            loaded.p50_ms <= 1.05 * bare.p50_ms,
        ),
        (f"similar clients (k={K}), p99 ≤ 20 ms", f"{similar.p99_ms:.2f} ms", similar.p99_ms <= 20),
    ]
    return [
        "",
        f"Measured {dt.date.today().isoformat()} on {_machine()}; `make bench-explain`.",
        f"One credit_scoring champion: {args.rows:,} generated applications, a "
        f"{args.trials}-trial LightGBM search ({family['trees']} trees, {family['inputs']} "
        f"inputs, {family['columns']} model columns). One worker per server; `wrk -t1 -c1` on "
        f"127.0.0.1 for {args.seconds} s per run after a {args.warmup} s warm-up, "
        f"{args.rounds} interleaved rounds, medians shown. tabship's routes get "
        '`{"SK_ID_CURR": …}` and look the client up in the online store; the floor gets the '
        "row exactly as the model reads it and answers only contributions and the base.",
        "",
        "| scenario | p50 ms | p99 ms | req/s |",
        "|---|---:|---:|---:|",
        *(f"| {n} | {v.p50_ms:.3f} | {v.p99_ms:.3f} | {v.rps:,.0f} |" for n, v in found.items()),
        "",
        f"tabship's explanation (lookup, score, contributions grouped per input, labels, "
        f"reasons and groups) takes {explain.p50_ms / floor.p50_ms:.2f}× the bare "
        f"`shap.TreeExplainer` app's p50. The `[serve]` install answers `/explain` with 404: "
        f"“{why}”.",
        "",
        f"Installed sizes, clean virtualenvs from the lock file: `[serve]` {serve_mb:,.1f} MB, "
        f"`[serve,explain]` {explain_mb:,.1f} MB ({explain_mb / serve_mb:.2f}×).",
        "",
        "| target | measured | |",
        "|---|---:|---|",
        *(f"| {name} | {value} | {_verdict(ok)} |" for name, value, ok in targets),
    ]


def _family(home: Path) -> dict[str, Any]:
    """The champion's size: trees, inputs, model columns."""
    from tabship.explain.explanation import FOLDER
    from tabship.serving.models.mirror import Repository
    from tabship.settings import Settings

    repo = Repository(Settings(home=home, usecases=REPO / "examples").serving_dir)
    state = repo.read_state(NAME)
    assert state is not None
    folder = repo.version_dir(NAME, state.aliases["champion"]) / FOLDER
    spec = json.loads((folder / "spec.json").read_text())
    trees = (folder / "lightgbm.txt").read_text().count("\nTree=")
    return {"trees": trees, "inputs": len(spec["inputs"]), "columns": len(spec["columns"])}


def main() -> None:
    """Train (or reuse) the champion, install both sets, serve, load and record."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    home = _home(args.rows, args.trials)
    installs = _installs()
    servers, key = _servers(home, installs)
    found, why = measure(servers, key, args.seconds, args.warmup, args.rounds)
    lines = report(found, why, installs, args, _family(home))
    print("\n".join(lines))
    print(f"wrote {write_section(SECTION, lines)}")


if __name__ == "__main__":
    main()
