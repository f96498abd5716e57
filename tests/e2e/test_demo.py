"""``tabship demo`` end to end: every step, then a server on which the printed curl
commands work."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import free_port, wait_ready

pytestmark = pytest.mark.slow


def _run_curl(line: str) -> dict[str, object]:
    args = shlex.split(line)
    if shutil.which("curl"):
        out = subprocess.run([*args, "-f"], check=True, capture_output=True, text=True, timeout=30)
        return dict(json.loads(out.stdout))
    url = args[-1]
    if "-d" in args:
        body = args[args.index("-d") + 1]
        response = httpx.post(url, content=body, headers={"content-type": "application/json"})
    else:
        response = httpx.get(url)
    response.raise_for_status()
    return dict(response.json())


def _demo(home: Path, port: int, *args: str) -> tuple[dict[str, str], str, list[str]]:
    """Run ``tabship demo ... --no-serve``; its environment, output and curl commands."""
    env = {**os.environ, "TABSHIP_HOME": str(home), "COLUMNS": "200"}
    demo = subprocess.run(
        [sys.executable, "-m", "tabship", "demo", *args, "--no-serve", "--port", str(port)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert demo.returncode == 0, demo.stderr[-2000:]
    curls = [line.strip() for line in demo.stdout.splitlines() if line.strip().startswith("curl ")]
    return env, demo.stdout, curls


def _answers(env: dict[str, str], port: int, curls: list[str]) -> list[dict[str, object]]:
    """Start the server the demo would have started and run every printed command."""
    server = subprocess.Popen(
        [sys.executable, "-m", "tabship", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}", server)
        return [_run_curl(line) for line in curls]
    finally:
        server.terminate()
        server.wait(30)


def test_demo_runs_every_step_and_its_curl_commands_work(tmp_path: Path) -> None:
    port, home = free_port(), tmp_path / "home"
    env, stdout, curls = _demo(home, port, "--rows", "20000", "--trials", "2")
    assert len(curls) == 7
    for step in (
        "data generate",
        "features build",
        "features materialize",
        "train",
        "models approve",
    ):
        assert f"$ tabship --home {home} {step}" in stdout
    assert "served by ONNX Runtime (parity holds: max diff" in stdout  # and says why
    features, by_id, by_version, why, importance, alike, model = _answers(env, port, curls)
    assert set(features["features"]) >= {"age", "nb_previous_loans"}  # type: ignore[arg-type]
    assert why["prediction"] == by_id["prediction"]
    assert why["reasons"]
    assert importance["importance"]
    assert alike["cohort_size"] == 50
    assert by_id["alias"] == "champion"
    assert by_version["version"] == by_id["version"]
    assert by_version["prediction"] == by_id["prediction"]
    assert model["aliases"]["champion"] == by_id["version"]  # type: ignore[index]


def test_the_demo_runs_house_prices_with_a_payload_example(tmp_path: Path) -> None:
    port = free_port()
    env, _, curls = _demo(
        tmp_path / "home", port, "house_prices", "--rows", "3000", "--trials", "2"
    )
    assert len(curls) in {5, 8}  # 8: the champion's family has an explainer
    features, by_id, by_payload, by_version, *_ = _answers(env, port, curls)
    assert "medn_hshld_incm_amt" in features["features"]  # type: ignore[operator]
    assert by_id["version"] == by_version["version"] == by_payload["version"] == "1"
    assert by_payload["prediction"] > 0  # type: ignore[operator]
    assert len(str(by_payload["demographics_version"])) == 16
