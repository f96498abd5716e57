"""The hot routes as plain ASGI, in front of FastAPI's routing.

FastAPI's request machinery (routing, request and response objects, the endpoint
wrapper) costs more per request than a prediction does (measured: a pure ASGI handler
answers ~4× more requests a second than a minimal FastAPI handler on one core). The
three prediction routes and the feature lookup are therefore answered here, by the same
functions the FastAPI routes call, with the same status codes, bodies, request ids and
metrics; every other request, and these ones when ``TABSHIP_FAST_PATH=false``, goes on
to FastAPI, which also documents them.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Receive, Scope, Send

from tabship.serving.http.errors import ApiError, error_bytes
from tabship.serving.http.handlers import features_bytes, predict_bytes
from tabship.serving.http.request import read_body, too_large
from tabship.serving.logs import log_failure, request_id

if TYPE_CHECKING:
    from tabship.serving.http.context import RequestIds
    from tabship.serving.services import Services

_PREDICT = "/v1/models/{name}/predict"
_VERSION = "/v1/models/{name}/versions/{version}/predict"
_ALIAS = "/v1/models/{name}/aliases/{alias}/predict"
_FEATURES = "/v1/features/{use_case}/{entity_id}"
_log = logging.getLogger("tabship.serve")


class FastPath:
    """The hot routes (predictions, a feature lookup) as plain ASGI, before FastAPI."""

    def __init__(self, app: ASGIApp, svc: Services, ids: RequestIds) -> None:
        self.app, self.svc, self.ids = app, svc, ids
        self.predictions = svc.serves_predictions
        self.features = svc.role in {"all", "features"}

    def _route(self, scope: Scope) -> tuple[str, str, str, str] | None:
        """(route template, kind, first, second) for a hot request, else None."""
        parts = scope["path"].split("/")
        if len(parts) < 5 or parts[1] != "v1" or "" in parts[2:]:
            return None
        method = scope["method"]
        if (
            method == "POST"
            and self.predictions
            and parts[2] == "models"
            and parts[-1] == "predict"
        ):
            if len(parts) == 5:
                return _PREDICT, "default", parts[3], ""
            if len(parts) == 7 and parts[4] == "versions":
                return _VERSION, "version", parts[3], parts[5]
            if len(parts) == 7 and parts[4] == "aliases":
                return _ALIAS, "alias", parts[3], parts[5]
        if method == "GET" and self.features and parts[2] == "features" and len(parts) == 5:
            return _FEATURES, "features", parts[3], parts[4]
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a hot request here, or pass it on to FastAPI."""
        route = self._route(scope) if scope["type"] == "http" else None
        if route is None:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        template, kind, first, second = route
        rid = self.ids(scope)
        token = request_id.set(rid)
        status = 200
        try:
            given = _headers(scope)  # one pass over the headers
            key = given.get(b"x-api-key") or None
            if kind == "features":
                content = await features_bytes(self.svc, first, second, key)
            else:
                limit = self.svc.settings.max_body_bytes
                length = given.get(b"content-length", "")
                if length.isdigit() and int(length) > limit:
                    raise too_large(limit)
                raw = await read_body(receive, limit)
                content_type = given.get(b"content-type", "")
                content = await predict_bytes(self.svc, first, kind, second, content_type, raw, key)
        except ApiError as exc:
            status, content = exc.status, error_bytes(exc.code, exc.message, exc.field)
        except ConnectionError:
            return  # the client went away
        except Exception as exc:
            log_failure(_log, exc)
            status, content = 500, error_bytes("internal_error", "internal server error")
        finally:
            request_id.reset(token)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(content)).encode()),
            (b"x-request-id", rid.encode()),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})
        seconds = time.perf_counter() - started
        if kind == "features":
            self.svc.metrics.http(template, scope["method"], status, seconds)
        else:  # predictions have their own histogram; count the request, skip a second one
            self.svc.metrics.http_count(template, scope["method"], status)


_READ = frozenset({b"content-type", b"content-length", b"x-api-key"})


def _headers(scope: Scope) -> dict[bytes, str]:
    """The headers the hot routes read, found in one pass."""
    return {k: v.decode("latin-1") for k, v in scope["headers"] if k in _READ}
