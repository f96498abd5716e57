"""Admin actions: open only to callers holding the API key."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter

from tabship.serving.http.errors import ApiError
from tabship.serving.models.sync_worker import SyncError
from tabship.serving.routes.deps import AdminDep, ServicesDep

_log = logging.getLogger("tabship.serve")
router = APIRouter(prefix="/v1/admin", tags=["admin"])


@router.post("/reload")
async def reload(_: AdminDep, svc: ServicesDep) -> dict[str, Any]:
    """Sync with the registry now and swap in what changed (old versions keep serving
    until their replacements are loaded and checked)."""
    if not svc.serves_predictions:
        raise ApiError(404, "not_found", "this service serves no models")
    try:
        return await svc.reload()
    except SyncError as exc:
        _log.error("reload failed", extra={"cause": exc.cause, "why": str(exc)})
        raise ApiError(503, f"sync_{exc.cause}", f"reload failed ({exc.cause}): {exc}") from exc
