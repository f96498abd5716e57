"""Benchmark: the officers' dashboard, measured in the browser (Debian's Chromium through
Playwright) against a live API serving a credit_scoring champion.

Run by ``make bench-dashboard``. Measures the first meaningful render (navigation to the
title and the client picker, a fresh browser context each time), switching client (pick
→ the decision and reasons on screen) and the bytes the browser receives per client
(websocket frames and HTTP bodies, from the DevTools protocol). The baseline of the same
run: the feature rows of the clients the picker offers, as JSON, which is what a
dashboard that ships its clients' table to the browser sends. Writes a section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench.bench_explain import NAME, _home
from bench.bench_serving import Server, _port, _stop
from bench.results import write_section

REPO = Path(__file__).resolve().parents[1]
SECTION = "## Dashboard (credit_scoring)"


class Received:
    """Bytes the page receives (websocket frames and HTTP bodies), from DevTools."""

    def __init__(self, page: Any) -> None:
        self.total = 0
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.on("Network.webSocketFrameReceived", self._frame)
        cdp.on("Network.loadingFinished", self._loaded)

    def _frame(self, event: dict[str, Any]) -> None:
        frame = event["response"]
        data = frame["payloadData"]
        self.total += len(base64.b64decode(data)) if frame.get("opcode") == 2 else len(data)

    def _loaded(self, event: dict[str, Any]) -> None:
        self.total += int(event.get("encodedDataLength", 0))


def _first_render(url: str, browser: Any, runs: int) -> list[float]:
    """Seconds from navigation to the title and the client picker, fresh context each."""
    from tests.integration.dashboard.browser import PICKER

    found = []
    for _ in range(runs):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        started = time.perf_counter()
        page.goto(url)
        page.get_by_role("combobox", name=PICKER).wait_for(timeout=60_000)
        page.get_by_text("Decisions and their reasons").first.wait_for()
        found.append(time.perf_counter() - started)
        context.close()
    return found


def _switches(url: str, browser: Any, ids: list[str]) -> tuple[list[float], list[int]]:
    """Seconds and bytes per client switch, one client after another: from choosing the
    id in the list to its decision and first reason on screen, the app idle."""
    from tests.integration.dashboard.browser import PICKER, idle

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(url)
    picker = page.get_by_role("combobox", name=PICKER)
    picker.wait_for(timeout=60_000)
    received = Received(page)
    seconds, sizes = [], []
    for i, client in enumerate(ids):
        picker.click()
        picker.fill(client)
        option = page.get_by_role("option", name=client, exact=True)
        option.wait_for()
        before, started = received.total, time.perf_counter()
        option.click()
        page.get_by_text(f"Client {client}:").first.wait_for(timeout=30_000)
        page.locator('[data-testid="stMainBlockContainer"] ol li').first.wait_for()
        idle(page)
        if i:  # the first pick also loads the charts' library
            seconds.append(time.perf_counter() - started)
            sizes.append(received.total - before)
    context.close()
    return seconds, sizes


def _table_bytes(api: str, ids: list[str]) -> int:
    """The JSON of the offered clients' feature rows: what shipping the table costs."""
    rows = [httpx.get(f"{api}/v1/features/{NAME}/{i}").json() for i in ids]
    return len(json.dumps(rows).encode())


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    """Serve the champion and the dashboard, then measure in Chromium."""
    from playwright.sync_api import sync_playwright

    from bench.bench_features import _machine
    from tests.integration.dashboard.browser import CHROMIUM, dashboard

    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--renders", type=int, default=7)
    parser.add_argument("--switches", type=int, default=30)
    args = parser.parse_args()
    home = _home(args.rows, args.trials)
    port = _port()
    api = Server(
        "tabship",
        [sys.executable, "-m", "tabship", "serve", "--port", str(port), "--sync", "off"],
        f"http://127.0.0.1:{port}/v1/models/{NAME}/predict",
        json.dumps({"SK_ID_CURR": 0}),
        {"TABSHIP_HOME": str(home), "TABSHIP_USECASES": str(REPO / "examples")},
    )
    api_url = f"http://127.0.0.1:{port}"
    process = _start_api(api)
    try:
        with dashboard(api_url) as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            _first_render(url, browser, 1)  # Streamlit compiles the script once
            renders = _first_render(url, browser, args.renders)
            known = httpx.get(f"{api_url}/v1/models/{NAME}/sample", params={"n": 100})
            offered = [str(i) for i in known.json()["ids"]]
            seconds, sizes = _switches(url, browser, offered[: args.switches + 1])
            browser.close()
        table = _table_bytes(api_url, offered)
    finally:
        _stop(process)
    lines = _report(args, renders, seconds, sizes, table, len(offered), _machine())
    print("\n".join(lines))
    print(f"wrote {write_section(SECTION, lines)}")


def _start_api(api: Server) -> subprocess.Popen[bytes]:
    """The API, up once it says it is ready."""
    from tests.integration.conftest import wait_until

    process = subprocess.Popen(api.args, env={**os.environ, **api.env})
    wait_until(api.url.rsplit("/v1/", 1)[0] + "/readyz", process, 120)
    return process


def _report(
    args: argparse.Namespace,
    renders: list[float],
    seconds: list[float],
    sizes: list[int],
    table: int,
    offered: int,
    machine: str,
) -> list[str]:
    """The dashboard section of docs/benchmarks.md, from this run's figures."""
    render = statistics.median(renders)
    p95 = _p95(seconds)
    per_client = statistics.median(sizes)
    verdict = {True: "met", False: "**missed**"}
    return [
        "",
        f"Measured {dt.date.today().isoformat()} on {machine}; `make bench-dashboard`.",
        f"Debian's Chromium (headless, through Playwright) on the dashboard (Streamlit, one "
        f"process) reading a live API (one worker) that serves a credit_scoring LightGBM "
        f"champion ({args.rows:,} generated applications, {args.trials}-trial search). First "
        f"render: {args.renders} navigations, each in a fresh browser context, after one "
        f"discarded; switching: {args.switches} clients picked one after another from the "
        "list, each timed until its decision and first reason are on screen, the app is idle "
        "and its charts are drawn.",
        "",
        "| measure | median | p95 | max |",
        "|---|---:|---:|---:|",
        f"| first meaningful render (s) | {render:.2f} | {_p95(renders):.2f} | "
        f"{max(renders):.2f} |",
        f"| switching client (s) | {statistics.median(seconds):.3f} | {p95:.3f} | "
        f"{max(seconds):.3f} |",
        f"| bytes to the browser per client (KB) | {per_client / 1000:.1f} | "
        f"{_p95([float(s) for s in sizes]) / 1000:.1f} | {max(sizes) / 1000:.1f} |",
        "",
        f"Baseline in the same run: the feature rows of the {offered} clients the picker "
        f"offers, as JSON, weigh {table / 1000:.1f} KB; a dashboard that ships its client "
        f"table sends that before the first client, and more with every client it holds. "
        f"This one sends {per_client / table:.2f}× that per client, and no other client's "
        "row ever.",
        "",
        "| target | measured | |",
        "|---|---:|---|",
        f"| first meaningful render ≤ 3 s | {render:.2f} s | {verdict[render <= 3]} |",
        f"| switching client p95 ≤ 1 s | {p95:.3f} s | {verdict[p95 <= 1]} |",
        f"| bytes per client ≤ 200 KB | {per_client / 1000:.1f} KB | "
        f"{verdict[per_client <= 200_000]} |",
        "",
    ]


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
