"""The durable prediction log: one JSON line per scored row, written off the request path.

The request path only appends a dict to a queue; a writer thread serialises, appends to
``<predictions>/<model>/<UTC date>.jsonl`` and fsyncs every ``flush_interval`` seconds.
A clean shutdown drains the queue; a killed process loses at most one interval.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import queue
import threading
from pathlib import Path
from typing import IO, Any

import orjson

_log = logging.getLogger("tabship.predlog")
_STOP = object()


class PredictionLog:
    def __init__(self, folder: Path, flush_interval: float) -> None:
        self.folder = folder
        self.flush_interval = flush_interval
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._files: dict[tuple[str, str], IO[bytes]] = {}
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
        self.written = 0

    def start(self) -> None:
        self._thread.start()

    def append(self, entry: dict[str, Any]) -> None:
        self._queue.put(entry)

    def close(self, timeout: float = 30.0) -> None:
        """Write everything queued so far, then stop."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch: list[dict[str, Any]] = []
            try:
                item = self._queue.get(timeout=self.flush_interval)
                while True:
                    if item is _STOP:
                        stopping = True
                        break
                    batch.append(item)
                    item = self._queue.get_nowait()
            except queue.Empty:
                pass
            if batch:
                self._write(batch)
        for handle in self._files.values():
            handle.close()

    def _write(self, batch: list[dict[str, Any]]) -> None:
        touched: set[IO[bytes]] = set()
        for entry in batch:
            handle = self._file(str(entry.get("model", "_")), str(entry["time"])[:10])
            handle.write(orjson.dumps(entry, option=orjson.OPT_SERIALIZE_NUMPY) + b"\n")
            touched.add(handle)
        for handle in touched:
            try:
                handle.flush()
                os.fsync(handle.fileno())
            except OSError:
                _log.exception("prediction log flush failed")
        self.written += len(batch)

    def _file(self, model: str, day: str) -> IO[bytes]:
        key = (model, day)
        handle = self._files.get(key)
        if handle is None:
            for old in [k for k in self._files if k[0] == model]:
                self._files.pop(old).close()
            path = self.folder / model / f"{day}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = self._files[key] = path.open("ab")
        return handle


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
