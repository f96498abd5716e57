"""Explanations beside predictions: the same bodies (by id or by values), the same
version the prediction would name, and why its score is what it is."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tabship.registry import vocabulary as vocab
from tabship.serving.http.errors import ApiError
from tabship.serving.models.pool import ModelView, Served
from tabship.serving.scoring import Item, Scorer, Target, champion_of, parse_body


def answering(view: ModelView, target: Target) -> tuple[Served, str]:
    """The version named, else the champion (for what concerns no single row)."""
    if target.served is not None:
        return target.served, target.alias or ""
    return champion_of(view), vocab.CHAMPION


def explainer_of(served: Served) -> Any:
    """The version's explainer; 404 naming why it has none."""
    if served.explainer is None:
        raise ApiError(
            404,
            "no_explainer",
            f"version {served.version} of {served.model} has no explainer: {served.no_explainer}",
            "version",
        )
    return served.explainer


async def explain(scorer: Scorer, view: ModelView, target: Target, body: Any) -> dict[str, Any]:
    """One row's score, decision and contributions per input, with the top reasons."""
    items, batch = parse_body(body, view, scorer.redact)
    if batch:
        raise ApiError(422, "invalid_body", "instances: explain one row at a time", "instances")
    item = items[0]
    served, alias = scorer.pick(view, target, item)  # as its prediction would be routed
    explainer = explainer_of(served)
    served.in_flight += 1
    try:
        version = await scorer.fill(view, [item], [(served, alias)])
        values = np.array([item.values], dtype=np.float64)
        score = float(served.runtime.score(values.astype(served.runtime.dtype))[0])
        found = explainer.contributions(values)
    finally:
        served.in_flight -= 1
    return _answer(view, item, served, alias, score, found, version)


def _answer(
    view: ModelView,
    item: Item,
    served: Served,
    alias: str,
    score: float,
    found: Any,
    version: str | None,
) -> dict[str, Any]:
    explainer = served.explainer
    values = found.values[0]
    shown = _shown(item, served)
    order = np.argsort(-np.abs(values), kind="stable")
    answer: dict[str, Any] = {view.entity: item.raw_id, "prediction": score}
    if served.threshold is not None:
        answer.update(
            threshold=served.threshold,
            decision=int(score >= served.threshold),
            distance_to_threshold=score - served.threshold,
            close_to_threshold=abs(score - served.threshold) <= explainer.boundary,
            boundary=explainer.boundary,
        )
    answer.update(explainer.words(answer.get("decision")))
    answer.update(
        base_value=float(found.base[0]),
        scale=explainer.scale,
        contributions=[
            _contribution(explainer, served.features[i], shown[i], values[i]) for i in order
        ],
        reasons=explainer.reasons(values, shown),
        model=view.name,
        version=served.version,
        alias=alias,
        runtime=served.runtime.name,
        explainer=explainer.method,
    )
    if explainer.groups:
        answer["groups"] = explainer.grouped(values)
    if item.key is not None:
        answer["feature_table_version"] = version
    if item.unseen:
        answer["unseen"] = item.unseen
    return answer


def _contribution(explainer: Any, name: str, shown: Any, value: float) -> dict[str, Any]:
    """One input's contribution, with its value (as given, and in words), its label and
    the declared group it is told in."""
    found = {
        "input": name,
        "label": explainer.label(name),
        "value": shown,
        "shown": explainer.display(name, shown),
        "contribution": float(value),
    }
    if name in explainer.group_of:
        found["group"] = explainer.group_of[name]
    return found


def _shown(item: Item, served: Served) -> list[Any]:
    """Each input's value as the caller knows it (text as text; null where missing)."""
    text = item.text or {}
    return [
        text[name] if name in text else (None if math.isnan(v) else v)
        for name, v in zip(served.features, item.values or [], strict=True)
    ]


def importance(served: Served) -> dict[str, Any]:
    """The version's global importance: mean absolute contribution on held-out rows."""
    explainer = explainer_of(served)
    return {
        "model": served.model,
        "version": served.version,
        "scale": explainer.scale,
        "explainer": explainer.method,
        "importance": explainer.importance(),
        "groups": explainer.group_importance(),
    }


def _count(raw: str | None, name: str, default: int, low: int, high: int) -> int:
    """A count from the query string, within bounds; 422 naming it otherwise."""
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ApiError(
            422, "invalid_field", f"{name}: expected a whole number from {low} to {high}", name
        )
    return int(raw)


async def similar(
    scorer: Scorer,
    view: ModelView,
    served: Served,
    entity_id: str,
    k: str | None,
    compare: str | None = None,
) -> dict[str, Any]:
    """The client's nearest held-out clients (among its peers by a declared comparison,
    where named), as aggregates: their number, observed rate, score distribution, and
    where the client stands on its top inputs."""
    from tabship.explain.similar import MAX_COHORT, MIN_COHORT, CohortTooSmallError

    count = _count(k, "k", 50, MIN_COHORT, MAX_COHORT)
    explainer = explainer_of(served)
    declared = explainer.comparisons()
    if compare == "":
        raise ApiError(422, "invalid_field", "compare: expected a comparison's name", "compare")
    if compare is not None and compare not in declared:
        known = ", ".join(declared) or "none are declared"
        raise ApiError(
            404, "unknown_comparison", f"compare: no comparison '{compare}' ({known})", "compare"
        )
    item = Item("", entity_id, entity_id, None)
    version = await scorer.fill(view, [item], [(served, "")])
    values = np.array([item.values], dtype=np.float64)
    found = explainer.contributions(values).values[0]
    score = float(served.runtime.score(values.astype(served.runtime.dtype))[0])
    try:
        summary = explainer.similar(
            entity_id, values[0], found, _shown(item, served), count, compare
        )
    except CohortTooSmallError as exc:
        raise ApiError(404, "cohort_too_small", str(exc), "compare") from exc
    if summary is None:
        raise ApiError(
            404,
            "no_reference",
            f"version {served.version} of {served.model} keeps no reference clients",
            "version",
        )
    return {
        view.entity: entity_id,
        "prediction": score,
        **summary,
        "model": view.name,
        "version": served.version,
        "feature_table_version": version,
    }


def sample(served: Served, n: str | None) -> dict[str, Any]:
    """Ids of known clients (held out at training), for a dashboard's picker."""
    count = _count(n, "n", 20, 1, 100)
    return {
        "model": served.model,
        "version": served.version,
        "ids": explainer_of(served).sample(count),
    }
