"""Errors a caller can act on: a status, a code, a message and the field at fault.

Every error body has the same shape, ``{"error": {"code", "message", "field"}}``. With
``hide_input_values`` set, messages never repeat what the caller sent (a banking rule:
request values may be personal data and must not travel into logs or error trackers).
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response


class ApiError(Exception):
    """An error a caller can act on: HTTP status, code, message, and the field at fault."""

    def __init__(
        self, status: int, code: str, message: str, field: str | None = None, model: str = ""
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field, self.model = (
            status,
            code,
            message,
            field,
            model,
        )


def error_bytes(code: str, message: str, field: str | None = None) -> bytes:
    """The error body, as bytes."""
    return orjson.dumps({"error": {"code": code, "message": message, "field": field}})


def error_response(status: int, code: str, message: str, field: str | None = None) -> Response:
    """The error body, as a response."""
    return Response(
        error_bytes(code, message, field), status_code=status, media_type="application/json"
    )


FIELD_CHARS = 64


def short(field: str) -> str:
    """A field name as echoed back: the caller chose it, so its length is capped."""
    return field if len(field) <= FIELD_CHARS else field[: FIELD_CHARS - 3] + "..."


class Redactor:
    """Shows a request value in a message, or hides it when so configured; either way an
    echoed value is at most 80 characters, whatever its type."""

    def __init__(self, hide: bool) -> None:
        self.hide = hide

    def __call__(self, value: Any) -> str:
        """The value as it may be echoed: hidden, or at most 80 characters."""
        if self.hide:
            return "<hidden>"
        if isinstance(value, str):
            text = repr(value[:80])
        else:
            try:
                text = orjson.dumps(value).decode()
            except (TypeError, orjson.JSONEncodeError):  # bytes, integers beyond 64 bits, ...
                text = _describe(value)
        return text if len(text) <= 80 else text[:77] + "..."


def _describe(value: Any) -> str:
    if isinstance(value, int):
        return f"<integer of {value.bit_length()} bits>"
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    return f"<{type(value).__name__}>"


def install(app: FastAPI, redact: Redactor) -> None:
    """Route every failure, ours and the framework's, through the same body shape."""

    async def on_api_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return error_response(exc.status, exc.code, exc.message, exc.field)

    async def on_validation(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0]
        where = short(".".join(str(p) for p in first["loc"] if p not in {"body", "path", "query"}))
        message = f"{where}: {first['msg']}"
        if "input" in first and first.get("type") != "missing":
            message += f" (got {redact(first['input'])})"
        return error_response(422, "invalid_field", message, where or None)

    async def on_http(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        response = error_response(exc.status_code, code, str(exc.detail))
        response.headers.update(exc.headers or {})  # e.g. Allow on a 405
        return response

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
