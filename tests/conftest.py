"""Shared fixtures: settings in a temp home, the credit_risk declaration, small real data,
and real servers (Redis is started here when none answers on 127.0.0.1:6379)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tabship.data.generate import generate
from tabship.features.engine import DuckDBEngine
from tabship.settings import Settings
from tabship.usecase import UseCase, load_usecase

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", usecases=EXAMPLES, duckdb_memory_limit="2GB")


@pytest.fixture(scope="session")
def credit_risk() -> UseCase:
    return load_usecase("credit_risk", EXAMPLES)


@pytest.fixture(scope="session")
def loans(tmp_path_factory: pytest.TempPathFactory, credit_risk: UseCase) -> Path:
    """20k clean generated loans (Parquet)."""
    out = tmp_path_factory.mktemp("loans")
    return generate(credit_risk, 20_000, out, seed=11)[0]


@pytest.fixture(scope="session")
def dirty_loans(tmp_path_factory: pytest.TempPathFactory, credit_risk: UseCase) -> Path:
    """20k generated loans with 1% broken on purpose (Parquet)."""
    out = tmp_path_factory.mktemp("dirty")
    return generate(credit_risk, 20_000, out, seed=12, dirty=0.01)[0]


@pytest.fixture
def duckdb_engine(settings: Settings) -> Iterator[DuckDBEngine]:
    engine = DuckDBEngine(settings)
    yield engine
    engine.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis: the machine's on 127.0.0.1:6379, else a private redis-server."""
    if os.environ.get("TABSHIP_TEST_OWN_REDIS") != "1" and _answers(6379):
        yield "redis://127.0.0.1:6379/0"
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("no Redis answers and redis-server is not installed (make test installs it)")
    port, folder = _free_port(), tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not _answers(port):
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("redis-server did not start within 10 s")
        time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)
