"""Predictions: the champion by default, or any loaded version by number or alias."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from tabship.serving.http.handlers import predict_bytes
from tabship.serving.services import Services

router = APIRouter(prefix="/v1/models", tags=["predictions"])
Handler = Callable[[Services, str, str, str, str, bytes, "str | None"], Awaitable[bytes]]

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


async def answer(
    request: Request, by: str, ref: str = "", handler: Handler = predict_bytes
) -> Response:
    """A POST body handed to ``handler`` with the route's model, version or alias."""
    svc: Services = request.app.state.services
    content = await handler(
        svc,
        request.path_params["name"],
        by,
        ref,
        request.headers.get("content-type", ""),
        await request.body(),
        request.headers.get("x-api-key"),
    )
    return Response(content, media_type="application/json")


def path_param(name: str, what: str) -> dict[str, Any]:
    """A path parameter, for the docs (the routes take the raw request)."""
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "description": what,
    }


_MODEL = path_param("name", "Model (use case) name.")

# These routes document the API and serve it under TestClient; under uvicorn the same
# requests are answered by ``serving.fastpath`` with the same code (``predict_bytes``).
# They take only the raw request: FastAPI's parameter and dependency resolution costs more
# than a whole prediction (~200 µs a request, measured), so parameters are declared for
# the docs by hand.


@router.post("/{name}/predict", openapi_extra={**_BODY, "parameters": [_MODEL]})
async def predict(request: Request) -> Response:
    """Score with the champion (or as the model's traffic policy routes)."""
    return await answer(request, "default")


@router.post(
    "/{name}/versions/{version}/predict",
    openapi_extra={**_BODY, "parameters": [_MODEL, path_param("version", "Version number.")]},
)
async def predict_version(request: Request) -> Response:
    """Score with one loaded version, by number."""
    return await answer(request, "version", request.path_params["version"])


@router.post(
    "/{name}/aliases/{alias}/predict",
    openapi_extra={
        **_BODY,
        "parameters": [_MODEL, path_param("alias", "champion, challenger, ...")],
    },
)
async def predict_alias(request: Request) -> Response:
    """Score with the version an alias names (``champion``, ``challenger``, ...)."""
    return await answer(request, "alias", request.path_params["alias"])
