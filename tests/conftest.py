"""Shared fixtures: settings in a temp home, the credit_risk declaration, small real data,
and real servers (Redis and PostgreSQL are started here when none answers on 127.0.0.1)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
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
    if os.environ.get("TEST_OWN_REDIS") != "1" and _answers(6379):
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


def _postgres_answers(url: str) -> bool:
    import psycopg

    try:
        psycopg.connect(url, connect_timeout=2).close()
        return True
    except psycopg.OperationalError:
        return False


def _start_postgres(folder: Path) -> tuple[str, Callable[[], None]]:
    """A private PostgreSQL cluster from Debian's binaries (trust auth, 127.0.0.1 only)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        pytest.fail("no PostgreSQL answers and initdb is not installed (make test installs it)")
    bindir, port = found[-1].parent, _free_port()
    as_owner: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(folder, "postgres", "postgres")
        as_owner = ["runuser", "-u", "postgres", "--"]
    data = folder / "data"
    subprocess.run(
        [*as_owner, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    pg_ctl = [*as_owner, str(bindir / "pg_ctl"), "-D", str(data), "-w", "-t", "30"]
    subprocess.run([*pg_ctl, "-o", options, "-l", str(folder / "log"), "start"], check=True)

    def stop() -> None:
        subprocess.run([*pg_ctl, "-m", "fast", "stop"], check=False, capture_output=True)

    return f"postgresql://postgres@127.0.0.1:{port}", stop


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A real PostgreSQL (server URL, no database): the machine's on 127.0.0.1:5432 (trust
    auth), else a private cluster started here."""
    machine = "postgresql://postgres@127.0.0.1:5432"
    if os.environ.get("TEST_OWN_POSTGRES") != "1" and _postgres_answers(f"{machine}/test"):
        yield machine
        return
    # Not under pytest's temp folder: it is private to this user, and PostgreSQL runs as its own.
    folder = Path(tempfile.mkdtemp(prefix="tabship-postgres-"))
    url, stop = _start_postgres(folder)
    yield url
    stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database for one test; dropped afterwards."""
    import psycopg

    name = f"tabship_{uuid.uuid4().hex[:12]}"
    admin = psycopg.connect(f"{postgres_server}/postgres", autocommit=True)
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name}")
    try:
        yield f"{postgres_server}/{name}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()
