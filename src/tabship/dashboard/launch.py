"""Start the dashboard: Streamlit serving ``app.py``, headless, reading the API the
settings name (the process inherits ``TABSHIP_DASHBOARD_*``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tabship.errors import TabshipError

APP = Path(__file__).with_name("app.py")


def command(host: str, port: int) -> list[str]:
    """The Streamlit command line: headless, no usage statistics, no file watching."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.headless=true",
        f"--server.address={host}",
        f"--server.port={port}",
        "--server.fileWatcherType=none",
        "--browser.gatherUsageStats=false",
        "--client.toolbarMode=viewer",
        "--theme.base=light",
    ]


def start(host: str, port: int, api_url: str | None = None) -> subprocess.Popen[bytes]:
    """The dashboard in a process of its own (the demo runs it beside the API)."""
    _check_installed()
    env = dict(os.environ)
    if api_url is not None:
        env["TABSHIP_DASHBOARD_API_URL"] = api_url
    return subprocess.Popen(command(host, port), env=env)


def run(host: str, port: int) -> int:
    """The dashboard in this terminal until interrupted; Streamlit's exit code."""
    _check_installed()
    return subprocess.call(command(host, port))


def _check_installed() -> None:
    try:
        import streamlit  # noqa: F401
    except ImportError as exc:
        raise TabshipError(
            "the dashboard needs the [dashboard] extra: pip install 'tabship[dashboard]'"
        ) from exc
