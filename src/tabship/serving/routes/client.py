"""Routes shaped exactly as a client asked (``serving.routes`` in a declaration), served
by the same scorer as the generic routes: field names are translated on the way in and
out, errors name the client's fields. ``?version=2``, ``?version=challenger`` (an alias)
and ``?version=all`` reach any loaded version with the client's own body."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from tabship.serving.http.errors import ApiError, short
from tabship.serving.http.handlers import model_view, target
from tabship.serving.http.request import expect_object, parse_json
from tabship.serving.logs import request_id
from tabship.serving.services import Services
from tabship.usecase.serving import RouteSpec

_QUERY = [
    {
        "name": "version",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "minLength": 1},
        "description": "Who answers instead of the champion: a loaded version's number, an "
        "alias (challenger, ...), or 'all' (every loaded version, one entry each).",
    }
]


def client_router(svc: Services) -> APIRouter:
    """The declared client routes of every use case, as FastAPI routes."""
    router = APIRouter(tags=["client routes"])
    for name, usecase in sorted(svc.usecases.items()):
        for route in usecase.serving.routes:
            router.add_api_route(
                route.path,
                _handler(name, route),
                methods=["POST"],
                summary=f"{name}, in the client's own format",
                openapi_extra={"requestBody": _body_schema(route), "parameters": _QUERY},
            )
    return router


def _body_schema(route: RouteSpec) -> dict[str, Any]:
    """The client's fields as JSON Schema: the required ones named, values scalars."""
    scalar = {"type": ["string", "number", "integer", "boolean", "null"]}
    return {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": list(route.required),
                    "properties": dict.fromkeys(route.required, scalar),
                }
            }
        },
    }


def _choice(request: Request) -> tuple[str, str]:
    """(by, ref) from ``?version=``: the policy, a number, an alias, or every version."""
    query = request.query_params
    for key in query:
        if key != "version":
            raise ApiError(
                422, "unknown_field", f"{short(key)}: unknown query parameter", short(key)
            )
    wanted = query.get("version")
    if wanted is None:
        return "default", ""
    if wanted == "all":
        return "all", ""
    return ("version", wanted) if wanted.isdigit() else ("alias", wanted)


def _handler(model: str, route: RouteSpec) -> Callable[[Request], Awaitable[Response]]:
    back = {column: field for field, column in route.rename.items()}
    minimal = route.accept == "model"

    def client_error(exc: ApiError) -> ApiError:
        field = back.get(exc.field or "") or exc.field
        message = exc.message
        if exc.field and message.startswith(f"{exc.field}:"):
            message = f"{field}:{message[len(exc.field) + 1 :]}"
        return ApiError(exc.status, exc.code, message, field, exc.model)

    def shaped(result: dict[str, Any], extra: tuple[str, ...] = ()) -> dict[str, Any]:
        answer = {back.get(k) or k: v for k, v in result.items()}
        return {k: answer.get(k) for k in (*route.response, *extra)}

    async def handler(request: Request) -> Response:
        svc: Services = request.app.state.services
        svc.access.require("predict", request.headers.get("x-api-key"))
        by, ref = _choice(request)
        body = expect_object(
            parse_json(request.headers.get("content-type", ""), await request.body())
        )
        for field in route.required:
            if field not in body:
                raise ApiError(422, "missing_field", f"{field}: field required", field)
        renamed: dict[str, Any] = {route.rename.get(str(k)) or str(k): v for k, v in body.items()}
        view = model_view(svc, model)
        try:
            targets = (
                [target(svc, view, "version", v) for v in sorted(view.versions, key=int)]
                if by == "all"
                else [target(svc, view, by, ref)]
            )
        except ApiError as exc:  # named by the client's own parameter
            raise ApiError(exc.status, exc.code, exc.message, "version", exc.model) from exc
        results = []
        for chosen in targets:
            try:
                result = await svc.scorer.predict(
                    view, chosen, renamed, request_id.get() or "", minimal
                )
            except ApiError as exc:
                svc.metrics.errors.labels(model, exc.code).inc()
                raise client_error(exc) from exc
            results.append(result)
        if by == "all":
            content = {"predictions": [shaped(r, ("version", "alias")) for r in results]}
        else:
            content = shaped(results[0])
        return Response(orjson.dumps(content), media_type="application/json")

    return handler
