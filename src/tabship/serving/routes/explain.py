"""Explanations: why a row's score is what it is, and which inputs weigh most overall;
the champion by default, or any loaded version by number or alias."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from tabship.serving.http.handlers import explain_bytes, importance_bytes
from tabship.serving.routes.predict import answer, path_param
from tabship.serving.services import Services

router = APIRouter(prefix="/v1/models", tags=["explanations"])
_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {}}}}}


_MODEL = path_param("name", "Model (use case) name.")
_VERSION = path_param("version", "Version number.")
_ALIAS = path_param("alias", "champion, challenger, ...")


async def _explain(request: Request, by: str, ref: str = "") -> Response:
    return await answer(request, by, ref, explain_bytes)


def _importance(request: Request, by: str, ref: str = "") -> Response:
    svc: Services = request.app.state.services
    key = request.headers.get("x-api-key")
    content = importance_bytes(svc, request.path_params["name"], by, ref, key)
    return Response(content, media_type="application/json")


@router.post("/{name}/explain", openapi_extra={**_BODY, "parameters": [_MODEL]})
async def explain(request: Request) -> Response:
    """Explain one row (by id or by values) with the champion: score, decision, base value,
    each input's signed contribution, and the top reasons in words."""
    return await _explain(request, "default")


@router.post(
    "/{name}/versions/{version}/explain", openapi_extra={**_BODY, "parameters": [_MODEL, _VERSION]}
)
async def explain_version(request: Request) -> Response:
    """Explain one row with one loaded version, by number."""
    return await _explain(request, "version", request.path_params["version"])


@router.post(
    "/{name}/aliases/{alias}/explain", openapi_extra={**_BODY, "parameters": [_MODEL, _ALIAS]}
)
async def explain_alias(request: Request) -> Response:
    """Explain one row with the version an alias names."""
    return await _explain(request, "alias", request.path_params["alias"])


@router.get("/{name}/importance", openapi_extra={"parameters": [_MODEL]})
def importance(request: Request) -> Response:
    """The champion's global importance: mean absolute contribution per input."""
    return _importance(request, "default")


@router.get(
    "/{name}/versions/{version}/importance", openapi_extra={"parameters": [_MODEL, _VERSION]}
)
def importance_version(request: Request) -> Response:
    """One loaded version's global importance."""
    return _importance(request, "version", request.path_params["version"])
