"""The feature API: an entity's latest features from the online store."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from tabship.serving.deps import ServicesDep
from tabship.serving.errors import ApiError
from tabship.serving.services import Services
from tabship.usecase import UseCase

router = APIRouter(prefix="/v1/features", tags=["features"])


class Ids(BaseModel):
    ids: list[int | str] = Field(min_length=1, max_length=1000)


def _usecase(svc: Services, name: str) -> UseCase:
    found = svc.usecases.get(name)
    if found is None or svc.online is None:
        known = ", ".join(sorted(svc.usecases)) or "none"
        raise ApiError(
            404, "unknown_use_case", f"no use case '{name}' (known: {known})", "use_case"
        )
    return found


def _shape(usecase: UseCase, key: str, row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": key,
        "features": {f: row.get(f) for f in usecase.feature_view.features},
        "event_time": row.get(usecase.event_time) if usecase.event_time else None,
    }


@router.get(
    "/{use_case}/{entity_id}",
    openapi_extra={
        "parameters": [
            {"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
            for n in ("use_case", "entity_id")
        ]
    },
)
async def features_by_id(request: Request) -> Response:
    """The entity's latest features, their event time and the feature-table version."""
    svc: Services = request.app.state.services
    path = request.path_params
    content = await features_bytes(svc, path["use_case"], path["entity_id"])
    return Response(content, media_type="application/json")


async def features_bytes(svc: Services, use_case: str, entity_id: str) -> bytes:
    """One entity's features, shared by the route and the ASGI fast path."""
    usecase = _usecase(svc, use_case)
    assert svc.features is not None
    found = await svc.features.fetch(use_case, [entity_id])
    row = found.rows[0]
    if row is None:
        version = found.version or "nothing materialised yet"
        raise ApiError(
            404,
            "unknown_entity",
            f"{usecase.entity} {svc.redact(entity_id)} not found in {use_case} ({version})",
            "entity_id",
        )
    shaped = _shape(usecase, entity_id, row)
    return orjson.dumps({"use_case": use_case, **shaped, "feature_table_version": found.version})


@router.post("/{use_case}")
async def features_batch(use_case: str, ids: Ids, svc: ServicesDep) -> Response:
    """Many entities at once; ids without features are listed under ``missing``."""
    usecase = _usecase(svc, use_case)
    assert svc.features is not None
    keys = [str(i) for i in ids.ids]
    found = await svc.features.fetch(use_case, keys)
    rows = [_shape(usecase, k, r) for k, r in zip(keys, found.rows, strict=True) if r is not None]
    missing = [k for k, r in zip(keys, found.rows, strict=True) if r is None]
    body = {
        "use_case": use_case,
        "feature_table_version": found.version,
        "rows": rows,
        "missing": missing,
    }
    return Response(orjson.dumps(body), media_type="application/json")
