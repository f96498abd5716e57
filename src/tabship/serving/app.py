"""The API: ``create_app`` builds one FastAPI app for a role (features, predictions, or
both); ``tabship serve`` runs it on uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tabship.errors import UseCaseError
from tabship.serving import docs_pages, errors, openapi
from tabship.serving.access import Access
from tabship.serving.errors import ApiError, Redactor, error_bytes
from tabship.serving.fastpath import FastPath
from tabship.serving.logs import log_failure, request_id
from tabship.serving.lookup import FeatureSource, LocalFeatures, RemoteFeatures
from tabship.serving.metrics import Metrics
from tabship.serving.pool import Pool
from tabship.serving.predlog import PredictionLog
from tabship.serving.repository import Repository
from tabship.serving.request import declared_length, too_large
from tabship.serving.routes import admin, features, health, models, predict
from tabship.serving.routes.client import client_router
from tabship.serving.scoring import Scorer
from tabship.serving.services import Role, Services
from tabship.serving.worker import InlineSync, NoSync, Syncer, SyncWorker
from tabship.settings import Settings
from tabship.stores.online import open_online_store
from tabship.usecase import UseCase, load_usecase

SyncMode = Literal["worker", "inline", "off"]
_log = logging.getLogger("tabship.serve")


class RequestIds:
    """The caller's ``X-Request-ID``, or a fresh id: unique across processes (a random
    prefix) and cheap within one (a counter)."""

    def __init__(self) -> None:
        self._prefix, self._counter = uuid.uuid4().hex[:12], itertools.count(1)

    def __call__(self, scope: Scope) -> str:
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


def _usecases(settings: Settings) -> dict[str, UseCase]:
    found: dict[str, UseCase] = {}
    for path in sorted(settings.usecases.glob("*/usecase.yaml")):
        try:
            found[path.parent.name] = load_usecase(path.parent.name, settings.usecases)
        except UseCaseError as exc:
            _log.warning("use case skipped", extra={"why": str(exc)})
    return found


def _syncer(mode: SyncMode, settings: Settings, repo: Repository) -> Syncer:
    if mode == "worker":
        return SyncWorker(settings, repo)
    if mode == "inline":
        return InlineSync(settings)
    return NoSync()


def build_services(
    settings: Settings, role: Role, features_url: str | None, sync: SyncMode
) -> Services:
    usecases = _usecases(settings)
    local = role in {"all", "features"} or not features_url
    online = open_online_store(settings) if local else None
    source: FeatureSource | None = None
    if features_url and role == "predictions":
        key = settings.features_key
        source = RemoteFeatures(features_url, key.get_secret_value() if key else None)
    elif online is not None:
        source = LocalFeatures(online)
    repo = Repository(settings.serving_dir)
    metrics, redact = Metrics(), Redactor(settings.hide_input_values)
    log = PredictionLog(settings.predictions_dir, settings.predlog_flush_interval)
    pool = Pool(repo, {n: u.serving for n, u in usecases.items()}, settings.serve_max_versions)
    serves = role in {"all", "predictions"}
    return Services(
        settings=settings,
        role=role,
        usecases=usecases,
        online=online,
        features=source,
        repo=repo,
        pool=pool,
        syncer=_syncer(sync if serves else "off", settings, repo),
        log=log,
        metrics=metrics,
        redact=redact,
        scorer=Scorer(source, log, metrics, redact),
        access=Access(settings),
    )


class TabshipAPI(FastAPI):
    """FastAPI, with the hot routes answered before its middleware stack when enabled:
    the fast path handles its own errors, ids and metrics, and every other request (and
    the lifespan) goes through FastAPI unchanged."""

    fast_path: FastPath | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.fast_path is not None:
            await self.fast_path(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    async def starlette_call(self, scope: Scope, receive: Receive, send: Send) -> None:
        await super().__call__(scope, receive, send)


def _mount(app: FastAPI, routers: list[APIRouter]) -> None:
    """Add the routers' routes to the app itself, ahead of the docs routes.

    Starlette tries routes in order and ``include_router`` adds a matching layer per
    router; flat, hot-first routes cost ~70 µs less per request (measured on this API).
    """
    own = [route for router in routers for route in router.routes]
    app.router.routes[:] = own + [r for r in app.router.routes if r not in own]


def create_app(
    settings: Settings,
    role: Role = "all",
    features_url: str | None = None,
    sync: SyncMode = "worker",
) -> FastAPI:
    svc = build_services(settings, role, features_url, sync)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        svc.log.start()
        watcher: asyncio.Task[Any] | None = None
        if svc.serves_predictions:
            await svc.reconcile()
            svc.syncer.start()
            watcher = asyncio.create_task(svc.watch())
        # Everything loaded so far lives as long as the process: keep the collector from
        # walking it on every full collection (long pauses show up as p99 latency).
        gc.collect()
        gc.freeze()
        _log.info("serving", extra={"role": role, "models": sorted(svc.pool.views)})
        try:
            yield
        finally:
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
            svc.syncer.stop()
            svc.log.close()
            if svc.features is not None:
                await svc.features.close()
            _log.info("stopped", extra={"predictions_logged": svc.log.written})

    app = TabshipAPI(
        title="tabship",
        summary="Features and predictions for the declared use cases.",
        version="1",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        # FastAPI's OpenTelemetry bridge checks its providers on every request; it is
        # opt-in here (Prometheus metrics are always on).
        telemetry={
            "tracing": settings.telemetry,
            "metrics": settings.telemetry,
            "logs": settings.telemetry,
        },
    )
    app.state.services = svc
    errors.install(app, svc.redact)
    docs_pages.install(app)
    routers = (
        [predict.router, client_router(svc), models.router, admin.router]
        if svc.serves_predictions
        else []
    )
    if role in {"all", "features"}:
        routers.insert(0, features.router)
    _mount(app, [*routers, health.router])
    openapi.install(app, svc)
    ids = RequestIds()
    app.add_middleware(
        RequestContext, metrics=svc.metrics, ids=ids, max_body=settings.max_body_bytes
    )
    if settings.fast_path:
        app.fast_path = FastPath(app.starlette_call, svc, ids)
    return app
