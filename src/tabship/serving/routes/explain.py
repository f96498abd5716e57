"""Explanations: why a row's score is what it is, and which inputs weigh most overall;
the champion by default, or any loaded version by number or alias."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from tabship.serving.http.errors import ApiError
from tabship.serving.http.handlers import (
    explain_bytes,
    importance_bytes,
    sample_bytes,
    similar_bytes,
)
from tabship.serving.routes.predict import answer, path_param
from tabship.serving.services import Services

router = APIRouter(prefix="/v1/models", tags=["explanations"])
_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {}}}}}


def _count_param(name: str, what: str, low: int, high: int) -> dict[str, Any]:
    schema = {"type": "integer", "minimum": low, "maximum": high}
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": what}


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


def _query(request: Request, allowed: str, *more: str) -> str | None:
    """The query parameter a route takes (``allowed``; ``more`` are read by the caller);
    422 naming any other."""
    for name in request.query_params:
        if name != allowed and name not in more:
            raise ApiError(422, "unknown_field", f"{name}: not a parameter of this route", name)
    return request.query_params.get(allowed)


_ENTITY = path_param("entity_id", "The client's id (the use case's entity).")


@router.get(
    "/{name}/similar/{entity_id}",
    openapi_extra={
        "parameters": [
            _MODEL,
            _ENTITY,
            _count_param("k", "Cohort size (10 to 500).", 10, 500),
            {
                "name": "compare",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "minLength": 1},
                "description": "A declared comparison (the model's `comparisons`): only "
                "clients sharing its inputs (same level, same fifth of a number).",
            },
        ]
    },
)
async def similar(request: Request) -> Response:
    """Clients like this one (nearest in contribution space among held-out clients, or
    among those sharing a declared comparison's inputs): cohort size, observed rate,
    score distribution, where the client stands on its top inputs. Aggregates only."""
    svc: Services = request.app.state.services
    content = await similar_bytes(
        svc,
        request.path_params["name"],
        request.path_params["entity_id"],
        _query(request, "k", "compare"),
        request.headers.get("x-api-key"),
        request.query_params.get("compare"),
    )
    return Response(content, media_type="application/json")


@router.get(
    "/{name}/sample",
    openapi_extra={"parameters": [_MODEL, _count_param("n", "How many ids (1 to 100).", 1, 100)]},
)
def sample(request: Request) -> Response:
    """Ids of known clients (held out at training) to pick from."""
    svc: Services = request.app.state.services
    key = request.headers.get("x-api-key")
    content = sample_bytes(svc, request.path_params["name"], _query(request, "n"), key)
    return Response(content, media_type="application/json")
