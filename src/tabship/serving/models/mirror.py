"""The local model repository the API serves from (``<home>/serving``).

The registry (MLflow) is the source of truth; ``sync`` copies what serving needs out of
it: per model, a ``state.json`` (aliases, versions, approval records) and, per version,
an immutable bundle (``meta.json`` plus ``model.onnx`` or the native model). The API
process reads only this folder, so it starts in a second without MLflow, pandas or the
training libraries, and never touches the registry on the request path.

Every write is a rename of a finished file or folder: a reader sees the old or the new.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STATE, META, SYNC = "state.json", "meta.json", "sync.json"
WORKER, RELOAD = "worker.json", "reload.json"
ONNX_FILE, NATIVE_DIR = "model.onnx", "native"


@dataclass(frozen=True)
class VersionInfo:
    """What the registry says about one version (no model bytes)."""

    version: str
    status: str  # approval status: pending | approved | rejected
    created_at: str
    tags: dict[str, str] = field(default_factory=dict)
    servable: bool = True
    reason: str = ""


@dataclass(frozen=True)
class ModelState:
    """What the registry says of one model: aliases, versions, decisions, when it was synced."""

    name: str
    aliases: dict[str, str]
    versions: dict[str, VersionInfo]
    history: list[dict[str, Any]]
    synced_at: str


def now() -> str:
    """The time now, UTC, in ISO 8601 to the millisecond."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def write_json(path: Path, payload: Any) -> None:
    """Write JSON atomically: a reader sees the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as out:
        json.dump(payload, out, indent=1, default=str)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


class Repository:
    """The local mirror of the registry a server serves from: state files and version bundles."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def models(self) -> list[str]:
        """Models the mirror holds."""
        if not self.root.is_dir():
            return []
        return sorted(p.parent.name for p in self.root.glob(f"*/{STATE}"))

    def version_dir(self, model: str, version: str) -> Path:
        """Where a version's bundle lives."""
        return self.root / model / "versions" / version

    def has_bundle(self, model: str, version: str) -> bool:
        """Whether a version's bundle is in place."""
        return (self.version_dir(model, version) / META).is_file()

    def install_bundle(self, model: str, version: str, source: Path) -> Path:
        """Move a finished bundle folder into place (a no-op if one is already there)."""
        target = self.version_dir(model, version)
        if (target / META).is_file():
            return target
        staging = target.with_name(f".{version}.{os.getpid()}.tmp")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(source, staging)
        shutil.rmtree(target, ignore_errors=True)
        os.replace(staging, target)
        return target

    def read_meta(self, model: str, version: str) -> dict[str, Any]:
        """A version's bundle metadata (features, threshold, runtime, check rows)."""
        return dict(json.loads((self.version_dir(model, version) / META).read_text()))

    def write_state(self, state: ModelState) -> None:
        """Write a model's state; an unchanged one is left alone, so its mtime means change."""
        payload = {
            "name": state.name,
            "aliases": state.aliases,
            "versions": {v: info.__dict__ for v, info in state.versions.items()},
            "history": state.history,
            "synced_at": state.synced_at,
        }
        path = self.root / state.name / STATE
        if path.is_file():  # unchanged: leave the file (and its mtime) alone
            old = json.loads(path.read_text())
            if {**old, "synced_at": None} == json.loads(json.dumps({**payload, "synced_at": None})):
                return
        write_json(path, payload)

    def read_state(self, model: str) -> ModelState | None:
        """A model's state, or None before its first sync."""
        path = self.root / model / STATE
        if not path.is_file():
            return None
        raw = json.loads(path.read_text())
        return ModelState(
            raw["name"],
            dict(raw["aliases"]),
            {v: VersionInfo(**info) for v, info in raw["versions"].items()},
            list(raw.get("history", [])),
            raw["synced_at"],
        )

    def mark_synced(self, generation: int, error: str | None = None, answered: int = 0) -> None:
        """Record a finished pass: its number, its error if any, and the newest reload
        request it began after (``answered``)."""
        write_json(
            self.root / SYNC,
            {"generation": generation, "synced_at": now(), "error": error, "answered": answered},
        )

    def ask_reload(self, token: int) -> None:
        """Ask the sync worker for a pass that begins after this call (tokens increase)."""
        write_json(self.root / RELOAD, {"token": token})

    def reload_asked(self) -> int:
        """The newest reload request (0: none); the worker reads it as a pass begins."""
        return int(self._read(RELOAD).get("token", 0))

    def mark_worker(self, pid: int) -> None:
        """The sync worker ``pid`` is listening for requests (its signal handler is set)."""
        write_json(self.root / WORKER, {"pid": pid, "started_at": now()})

    def worker_pid(self) -> int | None:
        """The pid of the sync worker that last said it was listening."""
        pid = self._read(WORKER).get("pid")
        return None if pid is None else int(pid)

    def _read(self, name: str) -> dict[str, Any]:
        try:
            return dict(json.loads((self.root / name).read_text()))
        except FileNotFoundError:
            return {}

    def sync_status(self) -> dict[str, Any]:
        """The last sync pass: its number, time, error and the reload request it answered."""
        path = self.root / SYNC
        if not path.is_file():
            return {"generation": 0, "synced_at": None, "error": None}
        return dict(json.loads(path.read_text()))

    def stamp(self) -> tuple[tuple[str, float], ...]:
        """Changes whenever a model's state changes (cheap to poll: a few ``stat`` calls)."""
        return tuple((m, self._mtime(self.root / m / STATE)) for m in self.models())

    @staticmethod
    def _mtime(path: Path) -> float:
        try:
            return path.stat().st_mtime_ns / 1e9
        except FileNotFoundError:
            return 0.0
