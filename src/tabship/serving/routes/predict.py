"""Predictions: the champion by default, or any loaded version by number or alias."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from tabship.serving.errors import ApiError
from tabship.serving.logs import request_id
from tabship.serving.pool import ModelView
from tabship.serving.request import parse_json
from tabship.serving.scoring import Target
from tabship.serving.services import Services

router = APIRouter(prefix="/v1/models", tags=["predictions"])

_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "object"},
                "examples": {
                    "by id": {"value": {"id": 5008804}},
                    "features": {
                        "value": {
                            "nb_previous_loans": 3,
                            "avg_amount_loans_previous": 120.5,
                            "age": 41,
                            "years_on_the_job": 6,
                            "flag_own_car": 1,
                        }
                    },
                    "batch": {"value": {"instances": [{"id": 5008804}, {"id": 5008805}]}},
                },
            }
        },
    }
}


def model_view(svc: Services, name: str) -> ModelView:
    view = svc.pool.views.get(name)
    if view is None:
        known = ", ".join(sorted(svc.pool.views)) or "none"
        if name in svc.repo.models():
            raise ApiError(
                503, "not_loaded", f"model '{name}' has no servable version loaded", model=name
            )
        raise ApiError(
            404, "unknown_model", f"no model {svc.redact(name)} (serving: {known})", "name"
        )
    return view


def target(svc: Services, view: ModelView, by: str, ref: str) -> Target:
    """Who answers: the policy (``by`` = "default"), a version number, or an alias."""
    if by == "version":
        served = view.versions.get(ref)
        if served is None:
            loaded = ", ".join(sorted(view.versions, key=int))
            raise ApiError(
                404,
                "unknown_version",
                f"model '{view.name}' has no loaded version {svc.redact(ref)} (loaded: {loaded})",
                "version",
            )
        return Target(served, next((a for a, v in view.aliases.items() if v == ref), None))
    if by == "alias":
        served = view.by_alias(ref)
        if served is None:
            known = ", ".join(sorted(view.aliases)) or "none"
            raise ApiError(
                404,
                "unknown_alias",
                f"model '{view.name}' has no alias {svc.redact(ref)} (aliases: {known})",
                "alias",
            )
        return Target(served, ref)
    return Target(None, None)


async def predict_bytes(
    svc: Services, name: str, by: str, ref: str, content_type: str, raw: bytes, key: str | None
) -> bytes:
    """The whole prediction request, shared by the routes and the ASGI fast path."""
    svc.access.require("predict", key)
    view = model_view(svc, name)
    try:
        body = parse_json(content_type, raw)
        chosen = target(svc, view, by, ref)
        result = await svc.scorer.predict(view, chosen, body, request_id.get() or "")
    except ApiError as exc:
        svc.metrics.errors.labels(view.name, exc.code).inc()
        raise
    return orjson.dumps(result)


async def _answer(request: Request, by: str, ref: str = "") -> Response:
    svc: Services = request.app.state.services
    content = await predict_bytes(
        svc,
        request.path_params["name"],
        by,
        ref,
        request.headers.get("content-type", ""),
        await request.body(),
        request.headers.get("x-api-key"),
    )
    return Response(content, media_type="application/json")


def _path(name: str, what: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "description": what,
    }


_MODEL = _path("name", "Model (use case) name.")

# These routes document the API and serve it under TestClient; under uvicorn the same
# requests are answered by ``serving.fastpath`` with the same code (``predict_bytes``).
# They take only the raw request: FastAPI's parameter and dependency resolution costs more
# than a whole prediction (~200 µs a request, measured), so parameters are declared for
# the docs by hand.


@router.post("/{name}/predict", openapi_extra={**_BODY, "parameters": [_MODEL]})
async def predict(request: Request) -> Response:
    """Score with the champion (or as the model's traffic policy routes)."""
    return await _answer(request, "default")


@router.post(
    "/{name}/versions/{version}/predict",
    openapi_extra={**_BODY, "parameters": [_MODEL, _path("version", "Version number.")]},
)
async def predict_version(request: Request) -> Response:
    """Score with one loaded version, by number."""
    return await _answer(request, "version", request.path_params["version"])


@router.post(
    "/{name}/aliases/{alias}/predict",
    openapi_extra={**_BODY, "parameters": [_MODEL, _path("alias", "champion, challenger, ...")]},
)
async def predict_alias(request: Request) -> Response:
    """Score with the version an alias names (``champion``, ``challenger``, ...)."""
    return await _answer(request, "alias", request.path_params["alias"])
