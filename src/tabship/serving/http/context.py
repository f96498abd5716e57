"""Every request's context, in pure ASGI (no per-request task): its id (the caller's
``X-Request-ID`` or a fresh one), HTTP metrics by route template, the body size limit,
and the last word on an unexpected exception."""

from __future__ import annotations

import itertools
import logging
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tabship.serving.http.errors import ApiError, error_bytes
from tabship.serving.http.request import declared_length, too_large
from tabship.serving.logs import log_failure, request_id
from tabship.serving.metrics import Metrics

_log = logging.getLogger("tabship.serve")


class RequestIds:
    """The caller's ``X-Request-ID``, or a fresh id: unique across processes (a random
    prefix) and cheap within one (a counter)."""

    def __init__(self) -> None:
        self._prefix, self._counter = uuid.uuid4().hex[:12], itertools.count(1)

    def __call__(self, scope: Scope) -> str:
        """The request's id: the caller's X-Request-ID (capped), else a fresh one."""
        for key, value in scope["headers"]:
            if key == b"x-request-id" and value:
                return str(value.decode("latin-1"))[:64]
        return f"{self._prefix}{next(self._counter):08x}"


class RequestContext:
    """Pure ASGI (no per-request task): request id in and out, HTTP metrics by route, the
    body size limit, and the last word on an unexpected exception (one JSON log line
    without request values; a 500 in the documented error shape)."""

    def __init__(self, app: ASGIApp, metrics: Metrics, ids: RequestIds, max_body: int) -> None:
        self.app, self.metrics, self.ids, self.max_body = app, metrics, ids, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one request with its id, limit, metrics and the last word on failures."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        rid = self.ids(scope)
        token = request_id.set(rid)
        status, sent = 500, False

        async def send_with_id(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status, sent = message["status"], True
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            if declared_length(scope) > self.max_body:
                raise too_large(self.max_body)
            await self.app(scope, self._limited(receive), send_with_id)
        except ApiError as exc:  # raised before routing (the size limit)
            if not sent:
                await _send_error(send_with_id, exc.status, exc.code, exc.message, exc.field)
        except Exception as exc:
            log_failure(_log, exc)
            if not sent:
                await _send_error(send_with_id, 500, "internal_error", "internal server error")
        finally:
            request_id.reset(token)
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.http(route, scope["method"], status, time.perf_counter() - started)

    def _limited(self, receive: Receive) -> Receive:
        """``receive``, refusing a body (sent in chunks, without a length) past the limit."""
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_body:
                raise too_large(self.max_body)
            return message

        return limited


async def _send_error(
    send: Send, status: int, code: str, message: str, field: str | None = None
) -> None:
    body = error_bytes(code, message, field)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
