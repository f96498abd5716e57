"""The durable prediction log: one JSON line per scored row, written off the request path.

The request path only appends a dict to a queue; a writer thread serialises, appends to
``<predictions>/<model>/<UTC date>.jsonl`` and fsyncs every ``flush_interval`` seconds.
A clean shutdown drains the queue; a killed process loses at most one interval. Replicas
sharing one volume each write files of their own, ``<UTC date>.<writer>.jsonl``: appends
from several hosts to one file can interleave.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import queue
import re
import socket
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any, NamedTuple

import orjson

_log = logging.getLogger("tabship.predlog")
_WRITER = re.compile(r"[A-Za-z0-9_-]+")


def host_writer() -> str:
    """This host's name as a log writer's (a pod's name on Kubernetes, a container's id
    under Compose): characters a file name could trip on become ``-``."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", socket.gethostname().split(".")[0]) or "host"


class Entry(NamedTuple):
    """One scored row, as the request path hands it over (formatted by the writer)."""

    request_id: str
    time: float
    model: str
    version: str
    alias: str
    shadow: bool
    id: Any
    features: list[str]
    values: list[Any]  # numbers (NaN: missing) and text inputs as given
    prediction: float
    seconds: float
    unseen: tuple[str, ...] = ()  # text inputs whose level the model never saw

    def as_json(self) -> bytes:
        """The entry as one JSON line."""
        stamp = dt.datetime.fromtimestamp(self.time, dt.UTC).isoformat(timespec="microseconds")
        values = [None if isinstance(v, float) and math.isnan(v) else v for v in self.values]
        return orjson.dumps(
            {
                "request_id": self.request_id,
                "time": stamp,
                "model": self.model,
                "version": self.version,
                "alias": self.alias,
                "shadow": self.shadow,
                "id": self.id,
                "features": dict(zip(self.features, values, strict=True)),
                "prediction": self.prediction,
                "latency_ms": round(self.seconds * 1000, 4),
                **({"unseen": list(self.unseen)} if self.unseen else {}),
            }
        )


class PredictionLog:
    """The durable prediction log: entries appended by the request path, written and fsynced by a
    thread."""

    def __init__(
        self,
        folder: Path,
        flush_interval: float,
        observers: Sequence[Callable[[list[Entry]], None]] = (),
        writer: str = "",
    ) -> None:
        """``observers`` see every written batch, on the writer thread (live drift);
        ``writer`` names this process's files (empty: ``<day>.jsonl``)."""
        if writer and not _WRITER.fullmatch(writer):
            raise ValueError(f"a log writer's name is letters, digits, - and _: {writer!r}")
        self.folder = folder
        self._suffix = f".{writer}.jsonl" if writer else ".jsonl"
        self.flush_interval = flush_interval
        self.observers = list(observers)
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._files: dict[tuple[str, str], IO[bytes]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
        self.written = 0

    def start(self) -> None:
        """Start the writer thread."""
        self._thread.start()

    def append(self, entry: Entry) -> None:
        """Queue an entry (no I/O on the request path)."""
        self._queue.put(entry)

    def close(self, timeout: float = 30.0) -> None:
        """Write everything queued so far, then stop."""
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join(timeout)

    def _run(self) -> None:
        # Wake on a clock, not per entry: one write and one fsync per interval keeps the
        # writer from competing with the request path for the interpreter.
        while not self._stop.wait(self.flush_interval):
            self._drain()
        self._drain()
        for handle in self._files.values():
            handle.close()

    def _drain(self) -> None:
        batch: list[Entry] = []
        try:
            while True:
                batch.append(self._queue.get_nowait())
        except queue.Empty:
            pass
        if batch:
            self._write(batch)

    def _write(self, batch: list[Entry]) -> None:
        touched: set[IO[bytes]] = set()
        for number, entry in enumerate(batch, 1):
            day = dt.datetime.fromtimestamp(entry.time, dt.UTC).date().isoformat()
            handle = self._file(entry.model, day)
            handle.write(entry.as_json() + b"\n")
            touched.add(handle)
            if number % 64 == 0:
                # Hand the interpreter back to the request path every few hundred µs
                # rather than at the 5 ms switch interval: a second's worth of entries
                # would otherwise show up as p99 latency.
                time.sleep(0)
        for handle in touched:
            try:
                handle.flush()
                os.fsync(handle.fileno())
            except OSError:
                _log.exception("prediction log flush failed")
        self.written += len(batch)
        for observe in self.observers:
            try:
                observe(batch)
            except Exception:  # an observer's failure must not stop the log
                _log.exception("prediction log observer failed")

    def _file(self, model: str, day: str) -> IO[bytes]:
        key = (model, day)
        handle = self._files.get(key)
        if handle is None:
            for old in [k for k in self._files if k[0] == model]:
                self._files.pop(old).close()
            path = self.folder / model / f"{day}{self._suffix}"
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = self._files[key] = path.open("ab")
            if not _ends_a_line(path):
                # A writer killed mid-line left half an entry: end it, so that it spoils
                # only itself and not the first entry written now.
                handle.write(b"\n")
        return handle


def _ends_a_line(path: Path) -> bool:
    """Whether a file is empty or its last byte ends a line."""
    with path.open("rb") as handle:
        if handle.seek(0, os.SEEK_END) == 0:
            return True
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"
