"""The OpenAPI document, made true: every status a route returns, with the error schema;
each declared model's prediction and feature-batch bodies exactly as the service reads
them (its entity, its payload fields and their types, its batch limit); the key each
route needs; ``/metrics`` as text.

FastAPI documents what its signatures say; the hot routes read raw requests (for speed)
and the bodies depend on each use case's declaration, so the document is completed here
from the same declarations the handlers use.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from tabship.registry.vocabulary import CHAMPION
from tabship.serving.http.access import HEADER
from tabship.serving.http.request import INT64, NUMBER_BOUND
from tabship.serving.services import Services
from tabship.settings import Scope
from tabship.usecase import UseCase
from tabship.usecase.serving import RouteSpec

Operation = dict[str, Any]
_WHY = {
    401: "No key, or a wrong one, where the route needs a key",
    403: "The key lacks the scope this route needs",
    404: "Unknown model, version, alias, use case or id",
    413: "The body is larger than the service accepts (TABSHIP_MAX_BODY_BYTES)",
    415: "The body is not JSON sent as application/json",
    422: "A field is missing, unknown or invalid (a batch too large, say); `field` names it",
    500: "An unexpected failure, logged with the request id",
    503: "Not ready: no approved champion loaded, the online store or the registry "
    "cannot be reached; retry later",
}
_BODY = (413, 415, 422)
# (method, path template) -> (scope needed, statuses besides 200 and 500)
_EXPLAIN: tuple[Scope, tuple[int, ...]] = ("features", (401, 403, 404, *_BODY, 503))
_IMPORTANCE: tuple[Scope, tuple[int, ...]] = ("models", (401, 403, 404, 503))
_ROUTES: dict[tuple[str, str], tuple[Scope | None, tuple[int, ...]]] = {
    ("post", "/v1/models/{name}/explain"): _EXPLAIN,
    ("post", "/v1/models/{name}/versions/{version}/explain"): _EXPLAIN,
    ("post", "/v1/models/{name}/aliases/{alias}/explain"): _EXPLAIN,
    ("get", "/v1/models/{name}/importance"): _IMPORTANCE,
    ("get", "/v1/models/{name}/similar/{entity_id}"): ("features", (401, 403, 404, 422, 503)),
    ("get", "/v1/models/{name}/sample"): ("features", (401, 403, 404, 422, 503)),
    ("get", "/v1/models/{name}/versions/{version}/importance"): _IMPORTANCE,
    ("get", "/v1/features/{use_case}/{entity_id}"): ("features", (401, 403, 404, 503)),
    ("post", "/v1/features/{use_case}"): ("features", (401, 403, 404, *_BODY, 503)),
    ("post", "/v1/models/{name}/predict"): ("predict", (401, 403, 404, *_BODY, 503)),
    ("post", "/v1/models/{name}/versions/{version}/predict"): (
        "predict",
        (401, 403, 404, *_BODY, 503),
    ),
    ("post", "/v1/models/{name}/aliases/{alias}/predict"): (
        "predict",
        (401, 403, 404, *_BODY, 503),
    ),
    ("get", "/v1/models"): ("models", (401, 403)),
    ("get", "/v1/models/{name}"): ("models", (401, 403, 404, 503)),
    ("post", "/v1/admin/reload"): ("admin", (401, 403, 404, 503)),
    ("get", "/healthz"): (None, ()),
    ("get", "/readyz"): (None, (503,)),
    ("get", "/metrics"): (None, ()),
}
_CLIENT: tuple[Scope, tuple[int, ...]] = ("predict", (401, 403, 404, *_BODY, 503))
_PER_MODEL = ("/v1/models/{name}/", "/v1/features/{use_case}")
_NUMBER: dict[str, Any] = {
    "type": ["number", "null"],
    "minimum": -float(NUMBER_BOUND),
    "maximum": float(NUMBER_BOUND),
}
_INTEGER = {"type": "integer", "minimum": INT64[0], "maximum": INT64[1]}
_ID = {"oneOf": [_INTEGER, {"type": "string", "minLength": 1}]}
_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "field"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "field": {"type": ["string", "null"]},
            },
        }
    },
}


def install(app: FastAPI, svc: Services) -> None:
    """Replace the app's OpenAPI generator with the completed document (built once)."""

    built_for: list[Any] = [None]

    def openapi() -> dict[str, Any]:
        # Bodies follow the champions' inputs: rebuilt after a swap changes the versions.
        if app.openapi_schema is None or built_for[0] is not svc.pool.views:
            built_for[0] = svc.pool.views
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                routes=app.routes,
            )
            app.openapi_schema = complete(schema, svc)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(schema: dict[str, Any], svc: Services) -> dict[str, Any]:
    """The document with statuses, security, per-model bodies and text metrics."""
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for generated in ("HTTPValidationError", "ValidationError"):
        schemas.pop(generated, None)
    schemas["Error"] = _ERROR
    components["securitySchemes"] = {"ApiKey": {"type": "apiKey", "in": "header", "name": HEADER}}
    clients = {r.path: (name, r) for name, uc in svc.usecases.items() for r in uc.serving.routes}
    paths: dict[str, Any] = {}
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            scope, statuses = _ROUTES.get((method, path), _CLIENT)
            _statuses(operation, statuses)
            if scope is not None:
                _security(operation, scope, svc)
            if path in clients:
                name, route = clients[path]
                _set_body(operation, client_body(svc.usecases[name], route))
            if path.startswith(_PER_MODEL):
                for concrete, op in _per_model(path, operation, svc.usecases, _kinds(svc)):
                    paths.setdefault(concrete, {})[method] = op
            else:
                paths.setdefault(path, {})[method] = operation
    _metrics_as_text(paths)
    schema["paths"] = paths
    return schema


def _statuses(operation: Operation, statuses: tuple[int, ...]) -> None:
    responses = operation.setdefault("responses", {})
    responses.pop("422", None)  # FastAPI's own validation shape: every error has ours
    for status in (*statuses, 500):
        responses[str(status)] = {
            "description": _WHY[status],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }


def _security(operation: Operation, scope: Scope, svc: Services) -> None:
    """The key the route needs; optional (``{}``) where its scope is open."""
    required: list[dict[str, list[str]]] = [{"ApiKey": []}]
    operation["security"] = required + ([{}] if scope in svc.access.open else [])
    note = f"Needs a key with the `{scope}` scope"
    note += " (open to callers without a key here)." if scope in svc.access.open else "."
    operation["description"] = f"{operation.get('description', '')}\n\n{note}".strip()


def _kinds(svc: Services) -> dict[str, dict[str, str]]:
    """How each model's champion takes its inputs (number, boolean, text, string)."""
    out = {}
    for name, view in svc.pool.views.items():
        champion = view.by_alias(CHAMPION)
        if champion is not None:
            out[name] = champion.payload
    return out


def _per_model(
    path: str,
    operation: Operation,
    usecases: dict[str, UseCase],
    kinds: dict[str, dict[str, str]],
) -> list[tuple[str, Operation]]:
    """One operation per declared use case, with that use case's own body."""
    out = []
    param = "name" if path.startswith("/v1/models/") else "use_case"
    for name, usecase in sorted(usecases.items()):
        op = copy.deepcopy(operation)
        op["parameters"] = [p for p in op.get("parameters", []) if p["name"] != param]
        op["operationId"] = f"{op.get('operationId', path)}_{name}"
        if path.startswith("/v1/models/"):
            if "/versions/{version}/" in path:
                for p in op["parameters"]:
                    if p["name"] == "version":
                        p["schema"] = {"type": "string", "pattern": "^[0-9]+$"}
            if "requestBody" in op:
                rows = path.endswith("/explain")  # one row at a time
                body = {"oneOf": _variants(usecase, kinds=kinds.get(name))} if rows else None
                _set_body(op, body or predict_body(usecase, kinds.get(name)))
        elif "requestBody" in op:
            _set_body(op, ids_body(usecase))
        out.append((path.replace("{" + param + "}", name), op))
    return out


def _set_body(operation: Operation, schema: dict[str, Any]) -> None:
    content = operation.setdefault("requestBody", {"required": True}).setdefault("content", {})
    media = content.setdefault("application/json", {})
    media["schema"] = schema
    media.pop("examples", None)  # examples are per model now; the schema says it all


def _metrics_as_text(paths: dict[str, Any]) -> None:
    ok = paths.get("/metrics", {}).get("get", {}).get("responses", {}).get("200")
    if ok is not None:
        ok["content"] = {"text/plain": {"schema": {"type": "string"}}}


_KEY: dict[str, Any] = {"oneOf": [{"type": "string"}, _INTEGER]}  # text or an integer code
_KINDS: dict[str, dict[str, Any]] = {
    "number": _NUMBER,
    "boolean": {"oneOf": [{"type": "boolean"}, _NUMBER]},  # true/false, or 1/0
    "text": {"type": ["string", "null"]},  # a model's text input, as in the file
    "string": _KEY,
}


def payload_fields(
    usecase: UseCase, minimal: bool = False, kinds: dict[str, str] | None = None
) -> dict[str, dict[str, Any]]:
    """What a payload carries, as JSON Schema per field: as the champion takes it when one
    is loaded (``kinds``), else the declared payload (typed by the contract), else the
    features the service is not joining itself plus join keys."""
    columns = usecase.contract.columns
    features = set(usecase.feature_view.features)

    def schema(column: str) -> dict[str, Any]:
        if kinds and column in kinds:
            return _KINDS[kinds[column]]
        declared = columns[column].type if column in columns else None
        if declared == "string":
            return _KINDS["text"] if column in features else _KEY
        return _KINDS["boolean"] if declared == "bool" else _NUMBER

    if usecase.serving.payload and not minimal:
        return {f: schema(f) for f in usecase.serving.payload}
    joined = {c for spec in usecase.enrich for c in spec.columns}
    # Features are source columns as declared, unless definitions derive them (a text
    # column may become a number of the same name): then numbers.
    derived = usecase.feature_view.definitions is not None
    fields = {
        f: schema(f) if not derived or (kinds and f in kinds) else _NUMBER
        for f in usecase.feature_view.features
        if f not in joined
    }
    return fields | {spec.key: _KEY for spec in usecase.enrich}


def _variants(
    usecase: UseCase, minimal: bool = False, kinds: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """A row by id (its features from the online store) or by its values."""
    fields = payload_fields(usecase, minimal, kinds)
    by_values = {
        "type": "object",
        "title": "by values",
        "required": list(fields),
        "properties": {**fields, usecase.entity: _ID},
        "additionalProperties": False,
    }
    by_id = {
        "type": "object",
        "title": "by id",
        "required": [usecase.entity],
        "properties": {usecase.entity: _ID},
        "additionalProperties": False,
    }
    return [by_id, by_values]


def predict_body(usecase: UseCase, kinds: dict[str, str] | None = None) -> dict[str, Any]:
    """A prediction body: one row by id or values, or ``instances`` of them."""
    rows = _variants(usecase, kinds=kinds)
    batch = {
        "type": "object",
        "title": "batch",
        "required": ["instances"],
        "properties": {
            "instances": {
                "type": "array",
                "minItems": 1,
                "maxItems": usecase.serving.max_batch,
                "items": {"oneOf": rows},
            }
        },
        "additionalProperties": False,
    }
    return {"oneOf": [*rows, batch]}


def ids_body(usecase: UseCase) -> dict[str, Any]:
    """A feature batch: up to ``serving.max_batch`` ids."""
    return {
        "type": "object",
        "required": ["ids"],
        "properties": {
            "ids": {
                "type": "array",
                "minItems": 1,
                "maxItems": usecase.serving.max_batch,
                "items": _ID,
            }
        },
        "additionalProperties": False,
    }


def client_body(usecase: UseCase, route: RouteSpec) -> dict[str, Any]:
    """A client route's body: the same rows, under the client's field names, with its
    required fields (a row shape that cannot hold them is left out)."""
    back: Callable[[str], str] = {c: f for f, c in route.rename.items()}.get  # type: ignore[assignment]
    shapes = []
    for variant in _variants(usecase, minimal=route.accept == "model"):
        props = {back(k) or k: v for k, v in variant["properties"].items()}
        required = list(
            dict.fromkeys([*(back(k) or k for k in variant["required"]), *route.required])
        )
        if all(r in props for r in required):
            shapes.append({**variant, "properties": props, "required": required})
    return shapes[0] if len(shapes) == 1 else {"oneOf": shapes}
