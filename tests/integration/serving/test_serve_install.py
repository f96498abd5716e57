"""The serving image's dependency set, installed from the lock into a clean virtualenv:
small, free of the training stack, and able to follow the registry and answer."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx
import pytest

from bench.serve_install import install_serve, size_mb
from tabship.settings import Settings
from tests.integration.conftest import PREDICT, entity_ids, free_port, wait_ready

pytestmark = pytest.mark.slow


def test_the_serve_install_is_small_and_answers_a_prediction(
    home: Settings, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    python = install_serve(venv)
    assert size_mb(venv) <= 300
    absent = subprocess.run(
        [
            str(python),
            "-c",
            "import importlib.util as u;"
            "print(*[m for m in ('pandas', 'sklearn', 'lightgbm', 'optuna') if u.find_spec(m)])",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert absent.stdout.strip() == ""  # no training stack in the serving image

    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "TABSHIP_HOME": str(home.home),
        "TABSHIP_USECASES": str(home.usecases),
        "TABSHIP_TRACKING_URI": str(home.tracking_uri),
    }
    server = subprocess.Popen(  # the default: a sync worker following the registry
        [str(venv / "bin" / "tabship"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}", server)  # type: ignore[arg-type]
        user = entity_ids(home, 1)[0]
        answer = httpx.post(f"http://127.0.0.1:{port}{PREDICT}", json={"id": user})
        assert answer.status_code == 200, answer.text
        assert (answer.json()["version"], answer.json()["runtime"]) == ("1", "onnx")
    finally:
        server.terminate()
        server.wait(30)
