"""The feature API: an entity's latest features from the online store."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from tabship.serving.errors import ApiError
from tabship.serving.lookup import Rows, fetch_rows
from tabship.serving.request import expect_object, identifier, parse_json, refuse_unknown
from tabship.serving.services import Services
from tabship.usecase import UseCase

router = APIRouter(prefix="/v1/features", tags=["features"])


MAX_IDS = 10_000  # the most any declaration may allow (serving.max_batch)


def _usecase(svc: Services, name: str) -> UseCase:
    found = svc.usecases.get(name)
    if found is None or svc.online is None:
        known = ", ".join(sorted(svc.usecases)) or "none"
        raise ApiError(
            404, "unknown_use_case", f"no use case '{name}' (known: {known})", "use_case"
        )
    return found


async def _fetch(svc: Services, use_case: str, keys: list[str]) -> Rows:
    assert svc.features is not None
    return await fetch_rows(svc.features, use_case, keys)


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
    key = request.headers.get("x-api-key")
    content = await features_bytes(svc, path["use_case"], path["entity_id"], key)
    return Response(content, media_type="application/json")


async def features_bytes(svc: Services, use_case: str, entity_id: str, key: str | None) -> bytes:
    """One entity's features, shared by the route and the ASGI fast path."""
    svc.access.require("features", key)
    usecase = _usecase(svc, use_case)
    found = await _fetch(svc, use_case, [entity_id])
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


_BATCH = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["ids"],
                    "additionalProperties": False,
                    "properties": {
                        "ids": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": MAX_IDS,
                            "items": {
                                "oneOf": [
                                    {"type": "integer", "format": "int64"},
                                    {"type": "string", "minLength": 1},
                                ]
                            },
                        }
                    },
                },
                "example": {"ids": [5008804, 5008805]},
            }
        },
    }
}


@router.post(
    "/{use_case}",
    openapi_extra={
        **_BATCH,
        "parameters": [
            {"name": "use_case", "in": "path", "required": True, "schema": {"type": "string"}}
        ],
    },
)
async def features_batch(request: Request) -> Response:
    """Many entities at once (up to the use case's ``serving.max_batch``); ids without
    features are listed under ``missing``."""
    svc: Services = request.app.state.services
    svc.access.require("features", request.headers.get("x-api-key"))
    use_case = request.path_params["use_case"]
    usecase = _usecase(svc, use_case)
    body = parse_json(request.headers.get("content-type", ""), await request.body())
    keys = _ids(expect_object(body), usecase.serving.max_batch, svc)
    found = await _fetch(svc, use_case, keys)
    rows = [_shape(usecase, k, r) for k, r in zip(keys, found.rows, strict=True) if r is not None]
    missing = [k for k, r in zip(keys, found.rows, strict=True) if r is None]
    answer = {
        "use_case": use_case,
        "feature_table_version": found.version,
        "rows": rows,
        "missing": missing,
    }
    return Response(orjson.dumps(answer), media_type="application/json")


def _ids(body: dict[str, Any], limit: int, svc: Services) -> list[str]:
    """The batch's ids as store keys: a non-empty list of integer or string ids."""
    refuse_unknown(body, ["ids"])
    if "ids" not in body:
        raise ApiError(422, "missing_field", "ids: field required", "ids")
    ids = body["ids"]
    if not isinstance(ids, list) or not ids:
        raise ApiError(422, "invalid_field", "ids: expected a non-empty list of ids", "ids")
    if len(ids) > limit:
        raise ApiError(
            422, "batch_too_large", f"ids: {len(ids)} ids, at most {limit} per request", "ids"
        )
    return [identifier(value, f"ids.{i}", svc.redact) for i, value in enumerate(ids)]
