"""Copy what serving needs from the registry into the local model repository.

Runs inside CLI commands that change the registry (so a server started next finds the
new state at once) and as the API's sync worker (``python -m tabship.serving.models.sync
--watch``): a separate process, so MLflow is never imported by the process that answers
requests. SIGUSR1 asks the worker for a pass now (the admin reload route uses it).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import signal
import tempfile
import threading
from pathlib import Path
from typing import Any

from tabship.registry import vocabulary as vocab
from tabship.registry.client import Registry, tracking_uri
from tabship.serving.logs import configure
from tabship.serving.models.mirror import (
    META,
    NATIVE_DIR,
    ModelState,
    Repository,
    VersionInfo,
    now,
)
from tabship.settings import Settings

BUNDLE_ARTIFACT = "serving"
_log = logging.getLogger("tabship.sync")


def repository(settings: Settings) -> Repository:
    """The mirror under the home of ``settings``."""
    return Repository(settings.serving_dir)


def _download_bundle(settings: Settings, name: str, version: Any, target: Path) -> str:
    """Fetch the version's serving bundle into ``target``; '' or why it cannot be served."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # no bars in logs
    import mlflow

    uri = tracking_uri(settings)
    try:
        mlflow.artifacts.download_artifacts(
            run_id=version.run_id,
            artifact_path=BUNDLE_ARTIFACT,
            dst_path=str(target),
            tracking_uri=uri,
        )
    except Exception as exc:
        return f"no serving bundle in run {version.run_id}: {type(exc).__name__}"
    bundle = target / BUNDLE_ARTIFACT
    meta_path = bundle / META
    if not meta_path.is_file():
        return f"run {version.run_id} has no {BUNDLE_ARTIFACT}/{META}"
    meta = json.loads(meta_path.read_text())
    if meta.get("runtime") == "native":
        mlflow.set_tracking_uri(uri)
        mlflow.artifacts.download_artifacts(
            artifact_uri=f"models:/{name}/{version.version}", dst_path=str(bundle / NATIVE_DIR)
        )
    return ""


def _sync_model(settings: Settings, registry: Registry, repo: Repository, name: str) -> None:
    versions: dict[str, VersionInfo] = {}
    for found in registry.versions(name):
        number = str(found.version)
        reason = ""
        if not repo.has_bundle(name, number):
            with tempfile.TemporaryDirectory(dir=_scratch(settings)) as tmp:
                reason = _download_bundle(settings, name, found, Path(tmp))
                if not reason:
                    repo.install_bundle(name, number, Path(tmp) / BUNDLE_ARTIFACT)
        tags = vocab.version_tags(found.tags)
        versions[number] = VersionInfo(
            version=number,
            status=vocab.status_of(tags),
            created_at=str(found.creation_timestamp),
            tags=tags,
            servable=not reason,
            reason=reason,
        )
    repo.write_state(
        ModelState(name, registry.aliases(name), versions, registry.history(name), now())
    )


def _scratch(settings: Settings) -> Path:
    settings.scratch_dir.mkdir(parents=True, exist_ok=True)
    return settings.scratch_dir


def sync_once(settings: Settings, registry: Registry | None = None) -> list[str]:
    """One pass over every registered model; returns the models synced."""
    registry = registry or Registry(settings)
    repo = repository(settings)
    names = registry.names()
    for name in names:
        _sync_model(settings, registry, repo, name)
    return names


def sync_and_mark(settings: Settings, registry: Registry | None = None) -> list[str]:
    """One pass, recorded in the repository's sync status (what running servers watch)."""
    repo = repository(settings)
    asked = repo.reload_asked()
    models = sync_once(settings, registry)
    repo.mark_synced(int(repo.sync_status().get("generation", 0)) + 1, answered=asked)
    return models


def watch(settings: Settings, interval: float) -> None:
    """Sync every ``interval`` seconds, or at once on SIGUSR1, until SIGTERM/SIGINT."""
    wake, stop = threading.Event(), threading.Event()

    def halt(*_: object) -> None:
        stop.set()
        wake.set()

    signal.signal(signal.SIGUSR1, lambda *_: wake.set())
    signal.signal(signal.SIGTERM, halt)
    signal.signal(signal.SIGINT, halt)
    repo = repository(settings)
    repo.mark_worker(os.getpid())  # from here on, SIGUSR1 wakes this loop
    # Housekeeping beside a latency-sensitive API on the same cores: yield to it.
    os.nice(10)
    registry: Registry | None = None
    generation = int(repo.sync_status().get("generation", 0))
    parent = os.getppid()
    while not stop.is_set() and os.getppid() == parent:  # ends with the server that started it
        generation += 1
        asked = repo.reload_asked()
        try:
            registry = registry or Registry(settings)
            sync_once(settings, registry)
            repo.mark_synced(generation, answered=asked)
        except Exception as exc:
            why = describe_failure(exc)  # the message only: a traceback may hold the URI
            _log.error("registry sync failed", extra={"why": why})
            repo.mark_synced(generation, why, asked)
        wake.wait(interval)
        wake.clear()


def describe_failure(exc: BaseException) -> str:
    """One line naming a failed pass, without the tracking URI's password."""
    text = f"{type(exc).__name__}: {exc}".splitlines()[0] if str(exc) else type(exc).__name__
    return _CREDENTIALS.sub(r"\1***@", text)[:300]


_CREDENTIALS = re.compile(r"(://[^:/@\s]+:)[^@\s]+@")


def main() -> None:
    """``python -m tabship.serving.models.sync [--watch]``: one pass, or the sync worker's loop."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--watch", action="store_true", help="keep syncing")
    parser.add_argument("--interval", type=float, default=5.0)
    args = parser.parse_args()
    configure("INFO")
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    settings = Settings()
    if args.watch:
        watch(settings, args.interval)
    else:
        sync_and_mark(settings)


if __name__ == "__main__":
    main()
