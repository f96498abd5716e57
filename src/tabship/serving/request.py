"""Reading a request body, the same way on every route: size limit (413), JSON only
(415), integers within 64 bits and no unknown keys (422 naming the field).

The fast path, the FastAPI routes and the client routes all read bodies through here, so
a bad body gets the same answer wherever it is sent.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import orjson
from starlette.types import Message, Receive, Scope

from tabship.serving.errors import ApiError, short

_INT64 = (-(2**63), 2**63 - 1)


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
    """The body as JSON; 415 unless it was sent as JSON, 422 for out-of-range integers."""
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
        if "64-bit" not in exc.msg:
            raise ApiError(
                415, "invalid_json", f"body is not valid JSON: {exc.msg}", "body"
            ) from exc
    # Valid JSON holding an integer orjson cannot represent: find it, to name it.
    where = _big_integer(json.loads(raw), "")
    raise ApiError(
        422,
        "invalid_field",
        f"{where or 'body'}: integers must fit in 64 bits",
        where or "body",
    )


def _big_integer(value: Any, where: str) -> str:
    """The path of the first integer outside 64 bits in ``value`` ('' for the root)."""
    if isinstance(value, int) and not _INT64[0] <= value <= _INT64[1]:
        return where or "body"
    items: Iterable[tuple[Any, Any]] = ()
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    for key, item in items:
        found = _big_integer(item, f"{where}.{key}" if where else str(key))
        if found:
            return found
    return ""


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
