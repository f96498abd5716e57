"""The request handlers every adapter calls: the ASGI fast path, the FastAPI routes and
the client routes take a request apart (path, headers, body bytes) and hand the pieces
here, so each request is handled one way whichever door it came through."""

from __future__ import annotations

from typing import Any

import orjson

from tabship.serving.http.errors import ApiError
from tabship.serving.http.request import expect_object, identifier, parse_json, refuse_unknown
from tabship.serving.logs import request_id
from tabship.serving.lookup import Rows, fetch_rows
from tabship.serving.models.pool import ModelView
from tabship.serving.scoring import Target
from tabship.serving.services import Services
from tabship.stores.online.base import entity_answer
from tabship.usecase import UseCase


def model_view(svc: Services, name: str) -> ModelView:
    """The model's loaded versions; 404 for an unknown model, 503 for one with none loaded."""
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
    shaped = entity_answer(usecase, entity_id, row)
    return orjson.dumps({"use_case": use_case, **shaped, "feature_table_version": found.version})


async def features_batch_bytes(
    svc: Services, use_case: str, content_type: str, raw: bytes, key: str | None
) -> bytes:
    """Many entities at once (up to the use case's ``serving.max_batch``); ids without
    features are listed under ``missing``."""
    svc.access.require("features", key)
    usecase = _usecase(svc, use_case)
    keys = _ids(expect_object(parse_json(content_type, raw)), usecase.serving.max_batch, svc)
    found = await _fetch(svc, use_case, keys)
    rows = [
        entity_answer(usecase, k, r) for k, r in zip(keys, found.rows, strict=True) if r is not None
    ]
    missing = [k for k, r in zip(keys, found.rows, strict=True) if r is None]
    answer = {
        "use_case": use_case,
        "feature_table_version": found.version,
        "rows": rows,
        "missing": missing,
    }
    return orjson.dumps(answer)


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


async def explain_bytes(
    svc: Services, name: str, by: str, ref: str, content_type: str, raw: bytes, key: str | None
) -> bytes:
    """One row's explanation (the client's own data: the ``features`` scope)."""
    from tabship.serving.explaining import explain

    svc.access.require("features", key)
    view = model_view(svc, name)
    try:
        body = parse_json(content_type, raw)
        result = await explain(svc.scorer, view, target(svc, view, by, ref), body)
    except ApiError as exc:
        svc.metrics.errors.labels(view.name, exc.code).inc()
        raise
    return orjson.dumps(result)


def importance_bytes(svc: Services, name: str, by: str, ref: str, key: str | None) -> bytes:
    """A version's global importance (the champion's unless named)."""
    from tabship.serving.explaining import answering, importance

    svc.access.require("models", key)
    view = model_view(svc, name)
    served, _ = answering(view, target(svc, view, by, ref))
    return orjson.dumps(importance(served))


async def similar_bytes(
    svc: Services,
    name: str,
    entity_id: str,
    k: str | None,
    key: str | None,
    compare: str | None = None,
) -> bytes:
    """Aggregates over the clients most like one client (the ``features`` scope)."""
    from tabship.serving.explaining import answering, similar

    svc.access.require("features", key)
    view = model_view(svc, name)
    served, _ = answering(view, target(svc, view, "default", ""))
    identifier(entity_id, "entity_id", svc.redact)
    return orjson.dumps(await similar(svc.scorer, view, served, entity_id, k, compare))


def sample_bytes(svc: Services, name: str, n: str | None, key: str | None) -> bytes:
    """Ids of known clients to pick from (the ``features`` scope)."""
    from tabship.serving.explaining import answering, sample

    svc.access.require("features", key)
    view = model_view(svc, name)
    served, _ = answering(view, target(svc, view, "default", ""))
    return orjson.dumps(sample(served, n))
