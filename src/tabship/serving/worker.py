"""Keeps the local model repository in step with the registry, for the API process.

``SyncWorker`` runs ``python -m tabship.serving.sync --watch`` beside the server, so
MLflow's import cost and memory stay out of the process answering requests.
``InlineSync`` syncs in a thread of this process (tests, one-off tools). ``NoSync``
serves the repository as it is (a read-only replica fed by someone else).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Any, Protocol

import anyio.to_thread

from tabship.serving.repository import Repository
from tabship.settings import Settings

_log = logging.getLogger("tabship.sync")


class Syncer(Protocol):
    def start(self) -> None: ...

    async def request(self, timeout: float) -> None:
        """Return once a sync pass that began after this call has finished."""
        ...

    def stop(self) -> None: ...


class NoSync:
    def start(self) -> None:
        return None

    async def request(self, timeout: float) -> None:
        return None

    def stop(self) -> None:
        return None


class InlineSync:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def start(self) -> None:
        return None

    async def request(self, timeout: float) -> None:
        from tabship.serving.sync import sync_and_mark

        with anyio.fail_after(timeout):
            await anyio.to_thread.run_sync(sync_and_mark, self.settings)

    def stop(self) -> None:
        return None


class SyncWorker:
    def __init__(self, settings: Settings, repo: Repository) -> None:
        self.settings, self.repo = settings, repo
        self.process: subprocess.Popen[bytes] | None = None

    def _env(self) -> dict[str, str]:
        env = {**os.environ, "TABSHIP_HOME": str(self.settings.home.resolve())}
        if self.settings.tracking_uri:
            env["TABSHIP_TRACKING_URI"] = self.settings.tracking_uri
        return env

    def start(self) -> None:
        if self.process is not None and self.process.poll() is None:
            return
        if self.process is not None:
            _log.warning("sync worker exited (code %s); restarting", self.process.returncode)
        args = [sys.executable, "-m", "tabship.serving.sync", "--watch"]
        args += ["--interval", str(self.settings.poll_interval)]
        self.process = subprocess.Popen(args, env=self._env())

    async def request(self, timeout: float) -> None:
        self.start()
        process = self.process
        assert process is not None
        with anyio.fail_after(timeout):
            # Its signal handler is in place once it has finished a pass of its own.
            await self._until(process, lambda s: s.get("pid") == process.pid)
            before = int(self.repo.sync_status().get("generation", 0))
            os.kill(process.pid, signal.SIGUSR1)
            await self._until(process, lambda s: int(s.get("generation", 0)) > before)
        error = self.repo.sync_status().get("error")
        if error:
            raise RuntimeError(f"registry sync failed: {error}")

    async def _until(
        self, process: subprocess.Popen[bytes], done: Callable[[dict[str, Any]], bool]
    ) -> None:
        while not done(self.repo.sync_status()):
            if process.poll() is not None:
                raise RuntimeError(f"sync worker exited with code {process.returncode}")
            await asyncio.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
