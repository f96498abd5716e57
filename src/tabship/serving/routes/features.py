"""The feature API: an entity's latest features from the online store."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from tabship.serving.http.handlers import features_batch_bytes, features_bytes
from tabship.serving.services import Services

router = APIRouter(prefix="/v1/features", tags=["features"])


MAX_IDS = 10_000  # the most any declaration may allow (serving.max_batch)


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
    content = await features_batch_bytes(
        request.app.state.services,
        request.path_params["use_case"],
        request.headers.get("content-type", ""),
        await request.body(),
        request.headers.get("x-api-key"),
    )
    return Response(content, media_type="application/json")
