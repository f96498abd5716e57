"""Predictions: the champion by default, or any loaded version by number or alias."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from tabship.serving.errors import ApiError
from tabship.serving.logs import request_id
from tabship.serving.pool import ModelView
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


async def json_body(request: Request) -> Any:
    kind = request.headers.get("content-type", "")
    if not kind.split(";")[0].strip().lower().endswith("json"):
        raise ApiError(
            415, "unsupported_media_type", "send a JSON body with Content-Type: application/json"
        )
    try:
        return orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise ApiError(415, "invalid_json", f"body is not valid JSON: {exc.msg}", "body") from exc


def model_view(svc: Services, name: str) -> ModelView:
    view = svc.pool.views.get(name)
    if view is None:
        known = ", ".join(sorted(svc.pool.views)) or "none"
        if name in svc.repo.models():
            raise ApiError(
                503, "not_loaded", f"model '{name}' has no servable version loaded", model=name
            )
        raise ApiError(404, "unknown_model", f"no model '{name}' (serving: {known})", "name")
    return view


async def _answer(svc: Services, request: Request, view: ModelView, target: Target) -> Response:
    body = await json_body(request)
    try:
        result = await svc.scorer.predict(view, target, body, request_id.get() or "")
    except ApiError as exc:
        svc.metrics.errors.labels(view.name, exc.code).inc()
        raise
    return Response(orjson.dumps(result), media_type="application/json")


def _path(name: str, what: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "description": what,
    }


_MODEL = _path("name", "Model (use case) name.")

# The three routes below take only the raw request: FastAPI's parameter and dependency
# resolution costs more than the whole prediction (measured: ~200 µs a request), so they
# read path and services directly and declare their parameters for the docs by hand.


@router.post("/{name}/predict", openapi_extra={**_BODY, "parameters": [_MODEL]})
async def predict(request: Request) -> Response:
    """Score with the champion (or as the model's traffic policy routes)."""
    svc: Services = request.app.state.services
    view = model_view(svc, request.path_params["name"])
    return await _answer(svc, request, view, Target(None, None))


@router.post(
    "/{name}/versions/{version}/predict",
    openapi_extra={**_BODY, "parameters": [_MODEL, _path("version", "Version number.")]},
)
async def predict_version(request: Request) -> Response:
    """Score with one loaded version, by number."""
    svc: Services = request.app.state.services
    name, version = request.path_params["name"], request.path_params["version"]
    view = model_view(svc, name)
    served = view.versions.get(version)
    if served is None:
        loaded = ", ".join(sorted(view.versions, key=int))
        raise ApiError(
            404,
            "unknown_version",
            f"model '{name}' has no loaded version {version} (loaded: {loaded})",
            "version",
        )
    alias = next((a for a, v in view.aliases.items() if v == version), None)
    return await _answer(svc, request, view, Target(served, alias))


@router.post(
    "/{name}/aliases/{alias}/predict",
    openapi_extra={**_BODY, "parameters": [_MODEL, _path("alias", "champion, challenger, ...")]},
)
async def predict_alias(request: Request) -> Response:
    """Score with the version an alias names (``champion``, ``challenger``, ...)."""
    svc: Services = request.app.state.services
    name, alias = request.path_params["name"], request.path_params["alias"]
    view = model_view(svc, name)
    served = view.by_alias(alias)
    if served is None:
        known = ", ".join(sorted(view.aliases)) or "none"
        raise ApiError(
            404,
            "unknown_alias",
            f"model '{name}' has no alias '{alias}' (aliases: {known})",
            "alias",
        )
    return await _answer(svc, request, view, Target(served, alias))
