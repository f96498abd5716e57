"""Reading a request body, the same way on every route: size limit (413), JSON only
(415), ids within 64 bits, finite numbers and no unknown keys (422 naming the field).

The fast path, the FastAPI routes and the client routes all read bodies through here, so
a bad body gets the same answer wherever it is sent.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

import orjson
from starlette.types import Message, Receive, Scope

from tabship.serving.http.errors import ApiError, Redactor, short

INT64 = (-(2**63), 2**63 - 1)
NUMBER_BOUND = 10**300  # numeric inputs: |x| <= 1e300, finite


def too_large(limit: int) -> ApiError:
    """The answer to a body over the configured size."""
    return ApiError(413, "body_too_large", f"bodies are limited to {limit} bytes", "body")


def declared_length(scope: Scope) -> int:
    """The request's Content-Length (0 when absent or unreadable)."""
    for key, value in scope["headers"]:
        if key == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole body of an ASGI request, refused as soon as it passes ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionError("client disconnected")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def parse_json(content_type: str, raw: bytes) -> Any:
    """The body as JSON; 415 unless it was sent as (valid) JSON.

    Integers beyond 64 bits are kept (as Python integers): whether one is acceptable
    depends on the field (an id must fit in 64 bits, a number in a double), so the
    field's reader decides, and names the field.
    """
    media = content_type.split(";", maxsplit=1)[0].strip().lower()
    if not (media == "application/json" or media.endswith("+json")):
        raise ApiError(
            415,
            "unsupported_media_type",
            "send a JSON body with Content-Type: application/json",
            "body",
        )
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if "64-bit" not in exc.msg and "infinity" not in exc.msg:
            raise ApiError(
                415, "invalid_json", f"body is not valid JSON: {exc.msg}", "body"
            ) from exc
    try:  # valid JSON holding a number orjson will not represent: the field decides
        return json.loads(raw)
    except ValueError as exc:  # an integer of more digits than Python converts
        raise ApiError(
            422, "invalid_field", "body: an integer has too many digits", "body"
        ) from exc


def identifier(value: Any, field: str, redact: Redactor) -> str:
    """An id as a store key: a 64-bit integer or a non-empty string; 422 otherwise. A
    whole float is its integer (JSON does not tell 7 from 7.0) where a double holds it
    exactly; beyond 2**53 a float may be a rounded integer, so it is refused."""
    if isinstance(value, float) and value.is_integer() and abs(value) <= 2**53:
        value = int(value)
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, str))
        or value == ""
        or (isinstance(value, int) and not INT64[0] <= value <= INT64[1])
    ):
        raise ApiError(
            422,
            "invalid_field",
            f"{field}: expected a 64-bit integer or a non-empty string id, got {redact(value)}",
            field,
        )
    return str(value)


def number(value: Any, field: str, redact: Redactor) -> float:
    """A numeric input as a finite double (null: missing); 422 otherwise."""
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ApiError(
            422,
            "invalid_field",
            f"{field}: expected a number or null, got {redact(value)}",
            field,
        )
    # Compared exactly (an integer as an integer): a bound a client's schema validator
    # and this check read the same way, where the largest double is not.
    if abs(value) > (NUMBER_BOUND if isinstance(value, int) else float(NUMBER_BOUND)):
        raise ApiError(422, "invalid_field", f"{field}: numbers are limited to ±1e300", field)
    return float(value)


def expect_object(body: Any, where: str = "") -> dict[str, Any]:
    """``body`` as a JSON object, or a 422 naming where an object was expected."""
    if not isinstance(body, dict):
        raise ApiError(
            422, "invalid_body", f"{where or 'body'}: expected a JSON object", where or "body"
        )
    return body


def refuse_unknown(body: dict[str, Any], allowed: Iterable[str], where: str = "") -> None:
    """422 naming the first key of ``body`` not in ``allowed``."""
    known = set(allowed)
    for key in body:
        if key not in known:
            field = short(f"{where}{key}")
            raise ApiError(
                422,
                "unknown_field",
                f"{field}: unknown field (expected {', '.join(sorted(known))})",
                field,
            )
