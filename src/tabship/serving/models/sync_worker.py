"""Keeps the local model repository in step with the registry, for the API process.

``SyncWorker`` runs ``python -m tabship.serving.models.sync --watch`` beside the server, so
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
import time
from collections.abc import Callable
from typing import Protocol

import anyio.to_thread

from tabship.serving.models.mirror import Repository
from tabship.settings import Settings

_log = logging.getLogger("tabship.sync")


class SyncError(RuntimeError):
    """A requested sync did not happen; ``cause`` says why in one word a runbook can key
    on: ``timeout``, ``worker_exited`` or ``registry_unreachable``."""

    def __init__(self, cause: str, message: str) -> None:
        super().__init__(message)
        self.cause = cause


class Syncer(Protocol):
    """How the API gets the registry's latest state into its model repository."""

    def start(self) -> None:
        """Begin following the registry (idempotent: restarts a worker that exited)."""
        ...

    async def request(self, timeout: float) -> None:
        """Return once a sync pass that began after this call has finished; raise
        ``SyncError`` naming the cause otherwise."""
        ...

    def stop(self) -> None:
        """Stop following the registry."""
        ...


class NoSync:
    """Serve the repository as it is: someone else keeps it in step."""

    def start(self) -> None:
        """Nothing to start."""

    async def request(self, timeout: float) -> None:
        """Nothing to wait for: the mirror is fed by someone else."""

    def stop(self) -> None:
        """Nothing to stop."""


class InlineSync:
    """Sync in a thread of this process (tests and one-off tools: MLflow is imported here)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def start(self) -> None:
        """Nothing to start: passes run on request."""

    async def request(self, timeout: float) -> None:
        """Run a pass in a thread of this process, within ``timeout`` seconds."""
        from tabship.serving.models.sync import describe_failure, sync_and_mark

        try:
            with anyio.fail_after(timeout):
                await anyio.to_thread.run_sync(sync_and_mark, self.settings, abandon_on_cancel=True)
        except TimeoutError as exc:
            raise SyncError("timeout", f"no sync pass finished within {timeout:g} s") from exc
        except Exception as exc:
            raise SyncError("registry_unreachable", describe_failure(exc)) from exc

    def stop(self) -> None:
        """Nothing to stop."""


class SyncWorker:
    """``python -m tabship.serving.models.sync --watch`` beside the server, restarted if it exits.

    A reload writes a request token into the repository and wakes the worker with
    SIGUSR1; the worker records, with each pass, the newest token it had read when the
    pass began, so the caller knows when a pass that began after its request is done.
    """

    def __init__(self, settings: Settings, repo: Repository) -> None:
        self.settings, self.repo = settings, repo
        self.process: subprocess.Popen[bytes] | None = None

    def _env(self) -> dict[str, str]:
        env = {**os.environ, "TABSHIP_HOME": str(self.settings.home.resolve())}
        if self.settings.tracking_uri:
            env["TABSHIP_TRACKING_URI"] = self.settings.tracking_uri
        # A registry server that is down must fail a pass in seconds, not minutes of retries.
        env.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
        env.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0.5")
        env.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")
        return env

    def start(self) -> None:
        """Start the worker process (again, if it exited)."""
        if self.process is not None and self.process.poll() is None:
            return
        if self.process is not None:
            _log.warning("sync worker exited; restarting", extra={"code": self.process.returncode})
        args = [sys.executable, "-m", "tabship.serving.models.sync", "--watch"]
        args += ["--interval", str(self.settings.poll_interval)]
        self.process = subprocess.Popen(args, env=self._env())

    async def request(self, timeout: float) -> None:
        """Ask the worker for a pass and wait, at most ``timeout`` seconds, for one that began after
        the request."""
        self.start()
        process = self.process
        assert process is not None
        token = max(time.time_ns(), self.repo.reload_asked() + 1)
        self.repo.ask_reload(token)
        try:
            with anyio.fail_after(timeout):
                await self._until(process, lambda: self.repo.worker_pid() == process.pid)
                os.kill(process.pid, signal.SIGUSR1)
                await self._until(
                    process, lambda: int(self.repo.sync_status().get("answered", 0)) >= token
                )
        except TimeoutError as exc:
            last = self.repo.sync_status().get("error")
            raise SyncError(
                "timeout",
                f"no sync pass finished within {timeout:g} s; the worker keeps trying"
                + (f" (last error: {last})" if last else ""),
            ) from exc
        error = self.repo.sync_status().get("error")
        if error:
            raise SyncError("registry_unreachable", f"the registry cannot be read: {error}")

    async def _until(self, process: subprocess.Popen[bytes], done: Callable[[], bool]) -> None:
        while not done():
            if process.poll() is not None:
                raise SyncError(
                    "worker_exited",
                    f"the sync worker exited with code {process.returncode} (see the server log)",
                )
            await asyncio.sleep(0.05)

    def stop(self) -> None:
        """Stop the worker (SIGTERM, then SIGKILL after 10 s)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
