"""Routes shaped exactly as a client asked (``serving.routes`` in a declaration), served
by the same scorer as the generic routes: field names are translated on the way in and
out, errors name the client's fields."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from tabship.serving.errors import ApiError
from tabship.serving.logs import request_id
from tabship.serving.request import parse_json
from tabship.serving.routes.predict import model_view
from tabship.serving.scoring import Target
from tabship.serving.services import Services
from tabship.serving.spec import RouteSpec


def client_router(svc: Services) -> APIRouter:
    router = APIRouter(tags=["client routes"])
    for name, usecase in sorted(svc.usecases.items()):
        for route in usecase.serving.routes:
            router.add_api_route(
                route.path,
                _handler(name, route),
                methods=["POST"],
                summary=f"{name}, in the client's own format",
                openapi_extra={
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            )
    return router


def _handler(model: str, route: RouteSpec) -> Callable[[Request], Awaitable[Response]]:
    back = {column: field for field, column in route.rename.items()}
    minimal = route.accept == "model"

    def client_error(exc: ApiError) -> ApiError:
        field = back.get(exc.field or "") or exc.field
        message = exc.message
        if exc.field and message.startswith(f"{exc.field}:"):
            message = f"{field}:{message[len(exc.field) + 1 :]}"
        return ApiError(exc.status, exc.code, message, field, exc.model)

    async def handler(request: Request) -> Response:
        svc: Services = request.app.state.services
        svc.access.require("predict", request.headers.get("x-api-key"))
        body = parse_json(request.headers.get("content-type", ""), await request.body())
        if not isinstance(body, dict):
            raise ApiError(422, "invalid_body", "body: expected a JSON object")
        for field in route.required:
            if field not in body:
                raise ApiError(422, "missing_field", f"{field}: field required", field)
        renamed: dict[str, Any] = {route.rename.get(str(k)) or str(k): v for k, v in body.items()}
        view = model_view(svc, model)
        try:
            result = await svc.scorer.predict(
                view, Target(None, None), renamed, request_id.get() or "", minimal
            )
        except ApiError as exc:
            svc.metrics.errors.labels(model, exc.code).inc()
            raise client_error(exc) from exc
        answer = {back.get(k) or k: v for k, v in result.items()}
        content = orjson.dumps({k: answer.get(k) for k in route.response})
        return Response(content, media_type="application/json")

    return handler
