"""Structured JSON logs, one object per line, carrying the request id where there is one."""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import traceback
from pathlib import Path
from typing import Any

import orjson

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Log records as one JSON object per line, with the request id where there is one."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one JSON line."""
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = request_id.get()
        if rid is not None:
            entry["request_id"] = rid
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def log_failure(logger: logging.Logger, exc: BaseException) -> None:
    """One JSON line for an unexpected exception: its type and where it was raised, never
    its message or the traceback's locals (either may hold request values)."""
    frames = traceback.extract_tb(exc.__traceback__)[-6:]
    logger.error(
        "request failed",
        extra={
            "error": type(exc).__name__,
            "at": [f"{Path(f.filename).name}:{f.lineno} in {f.name}" for f in frames],
        },
    )


def configure(level: str = "INFO") -> None:
    """Send tabship's logs to stderr as JSON lines, at ``level``."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("tabship")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
