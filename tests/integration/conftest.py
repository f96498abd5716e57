"""One served home per test session: credit_risk features built from 20k generated loans
and materialised, version 1 (LightGBM) approved as champion, version 2 (random forest)
waiting as challenger, the model repository synced. Tests that change the registry
take a private copy."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tabship.pipeline import Pipeline
from tabship.serving.app import SyncMode, create_app
from tabship.settings import Settings
from tabship.stores.online import open_online_store
from tabship.usecase import UseCase, load_usecase
from tests.conftest import EXAMPLES

NAME = "credit_risk"
PREDICT = f"/v1/models/{NAME}/predict"
FEATURES = [
    "nb_previous_loans",
    "avg_amount_loans_previous",
    "age",
    "years_on_the_job",
    "flag_own_car",
]


def entity_ids(settings: Settings, n: int) -> list[int]:
    """``n`` user ids present in the online store."""
    store = open_online_store(settings)
    keys = store.keys(NAME, n)
    store.close()
    return [int(k) for k in keys]


def wait_ready(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    """Until ``url``/readyz answers 200; fails if the server process exits first."""
    wait_until(f"{url}/readyz", process, seconds)


def wait_until(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    """Until ``url`` answers 200; fails if the server process exits first."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(url).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert process.poll() is None, "server exited"
        assert time.monotonic() < deadline, "server never became ready"
        time.sleep(0.1)


@contextmanager
def serving(settings: Settings, **env: str) -> Iterator[tuple[str, list[str]]]:
    """``tabship serve`` in a process of its own (default sync worker) on a free port,
    with ``env`` added; yields its URL and, once it has stopped, the log lines it wrote."""
    port = free_port()
    environ = {
        **os.environ,
        "TABSHIP_HOME": str(settings.home),
        "TABSHIP_USECASES": str(settings.usecases),
        "TABSHIP_TRACKING_URI": str(settings.tracking_uri),
        **env,
    }
    args = [sys.executable, "-m", "tabship", "serve", "--port", str(port)]
    server = subprocess.Popen(args, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    logs: list[str] = []
    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(url, server)
        yield url, logs
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
        logs.extend(err.decode().splitlines())


def declare(cases: Path, **serving: Any) -> UseCase:
    """credit_risk with small training settings (and an optional serving section)."""
    folder = cases / NAME
    if not folder.exists():
        shutil.copytree(EXAMPLES / NAME, folder)
    declaration = yaml.safe_load((folder / "usecase.yaml").read_text())
    declaration["training"].update({"trials": 2, "cv_folds": 2, "search_rows": None})
    if serving:
        declaration["serving"] = serving
    (folder / "usecase.yaml").write_text(yaml.safe_dump(declaration))
    return load_usecase(NAME, cases)


def point_cli_at(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Make the ``tabship`` command find ``settings``' home, declarations and registry."""
    for name, value in {
        "TABSHIP_HOME": settings.home,
        "TABSHIP_USECASES": settings.usecases,
        "TABSHIP_TRACKING_URI": settings.tracking_uri,
    }.items():
        monkeypatch.setenv(name, str(value))
    return settings


def publish(settings: Settings) -> None:
    """Bring the serving repository in step with the registry."""
    Pipeline(settings).publish()


@pytest.fixture(scope="session")
def served_home(tmp_path_factory: pytest.TempPathFactory, loans: Path) -> Settings:
    root = tmp_path_factory.mktemp("served")
    settings = Settings(
        home=root / "home",
        usecases=root / "cases",
        tracking_uri=f"sqlite:///{root / 'mlflow.db'}",
        predlog_flush_interval=0.2,
    )
    usecase = declare(settings.usecases)
    pipeline = Pipeline(settings)
    pipeline.build(usecase, [loans])
    pipeline.materialize(usecase)
    assert usecase.training is not None
    lgbm = usecase.model_copy(
        update={"training": usecase.training.model_copy(update={"families": ["lightgbm"]})}
    )
    forest = usecase.model_copy(
        update={"training": usecase.training.model_copy(update={"families": ["random_forest"]})}
    )
    pipeline.train(lgbm)
    pipeline.approve(NAME, "1", by="risk-officer", reason="fixture")
    pipeline.train(forest)
    return settings


@pytest.fixture
def home(served_home: Settings, tmp_path: Path) -> Settings:
    """A private copy of the served home and registry (tests may move aliases)."""
    shutil.copytree(
        served_home.home, tmp_path / "home", ignore=shutil.ignore_patterns("predictions")
    )
    source = Path(str(served_home.tracking_uri).removeprefix("sqlite:///"))
    shutil.copy(source, tmp_path / "mlflow.db")
    cases = tmp_path / "cases"
    shutil.copytree(served_home.usecases, cases)
    return served_home.model_copy(
        update={
            "home": tmp_path / "home",
            "usecases": cases,
            "tracking_uri": f"sqlite:///{tmp_path / 'mlflow.db'}",
        }
    )


@pytest.fixture
def client_for() -> Iterator[Callable[..., TestClient]]:
    """Open TestClients (lifespan included) on settings; all closed at teardown."""
    opened: list[TestClient] = []

    def make(settings: Settings, sync: SyncMode = "inline", **kwargs: Any) -> TestClient:
        client = TestClient(
            create_app(settings, sync=sync, **kwargs), raise_server_exceptions=False
        )
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture(params=[True, False], ids=["fast-path", "fastapi-routes"])
def client(
    request: pytest.FixtureRequest, served_home: Settings, client_for: Callable[..., TestClient]
) -> TestClient:
    """Both implementations of the hot routes must behave the same."""
    return client_for(served_home.model_copy(update={"fast_path": request.param}), sync="off")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running(app: FastAPI) -> Iterator[str]:
    """A real uvicorn server on a free port, in a thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
