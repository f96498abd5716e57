"""Liveness, readiness and metrics, for load balancers and Prometheus."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from tabship.serving.http.errors import error_response
from tabship.serving.routes.deps import ServicesDep

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
async def readyz(svc: ServicesDep) -> Response | dict[str, Any]:
    """Ready to take traffic: champions loaded (prediction roles), store open (features)."""
    if svc.serves_predictions:
        ok, why = svc.pool.ready()
        if not ok:
            return error_response(503, "not_ready", why)
    if svc.role in {"all", "features"} and svc.online is None:
        return error_response(503, "not_ready", "online store not open")
    return {"status": "ready", "models": {m: v.aliases for m, v in svc.pool.views.items()}}


@router.get("/metrics")
async def metrics(svc: ServicesDep) -> Response:
    """Prometheus text format."""
    return Response(svc.metrics.render(), media_type="text/plain; version=0.0.4")
