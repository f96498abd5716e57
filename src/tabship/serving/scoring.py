"""The prediction request path: parse, route, look up, score, log. No pandas, no I/O
beyond the online store read; everything else was prepared when the version loaded."""

from __future__ import annotations

import asyncio
import math
import random
import time
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from tabship.registry import vocabulary as vocab
from tabship.serving.http.errors import ApiError, Redactor, short
from tabship.serving.http.request import identifier, number, refuse_unknown
from tabship.serving.lookup import FeatureSource, fetch_rows
from tabship.serving.metrics import Metrics
from tabship.serving.models.pool import ModelView, Served
from tabship.serving.predlog import Entry, PredictionLog
from tabship.usecase.serving import TrafficSpec


@dataclass
class Item:
    """One row to score: an entity to look up, or the feature values themselves."""

    where: str
    key: str | None
    raw_id: Any
    payload: dict[str, Any] | None
    values: list[float] | None = None
    row: dict[str, Any] | None = None
    enriched: dict[str, str] | None = None  # reference data joined: name -> version
    missing: bool = False  # a lookup the online store has no row for (batches answer per item)
    text: dict[str, Any] | None = None  # text inputs as given (logged as text, not codes)
    unseen: list[str] | None = None  # text inputs whose level the model never saw


@dataclass(frozen=True)
class Target:
    """Which version answers, and under which name the caller reached it."""

    served: Served | None  # None: choose per row by the traffic policy
    alias: str | None


def parse_item(obj: Any, entity: str, redact: Redactor, where: str) -> Item:
    """``{"<entity>": key}`` is a lookup; any other object is a payload of features."""
    if not isinstance(obj, dict):
        raise ApiError(
            422, "invalid_body", f"{where or 'body'}: expected a JSON object", where or None
        )
    if entity in obj and len(obj) == 1:
        return Item(where, identifier(obj[entity], where + entity, redact), obj[entity], None)
    raw_id = obj.get(entity)
    if entity in obj:  # optional beside values, but an id when present
        identifier(raw_id, where + entity, redact)
    return Item(where, None, raw_id, obj)


def payload_values(
    item: Item, served: Served, entity: str, redact: Redactor, minimal: bool = False
) -> list[float]:
    """Every feature of ``served``: from the payload (numbers or null), or joined from its
    reference data by key. Nothing may be sent but the declared fields and the id."""
    obj, where = item.payload or {}, item.where
    fields = served.minimal if minimal else served.payload
    for name in obj:
        if name not in fields and name != entity:
            raise _unexpected(served, name, where, entity)
    values: dict[str, float] = {}
    for name, kind in fields.items():
        if name not in obj:
            raise ApiError(422, "missing_field", f"{where}{name}: field required", where + name)
        value = obj[name]
        if kind == "string":
            _key(value, where + name, redact)
        elif kind == "text":
            values[name] = _text(item, served, name, value, where, redact)
        elif kind == "boolean" and isinstance(value, bool):
            values[name] = float(value)  # a declared bool: true/false as the model saw them
        else:
            values[name] = number(value, where + name, redact)
    if served.enrich:
        item.enriched = {}
        for ref in served.enrich:
            key = str(obj[ref.key])
            row = ref.rows.get(key)
            if row is None:
                raise ApiError(
                    422,
                    "unknown_key",
                    f"{where}{ref.key}: unknown {ref.key} {redact(key)} (no {ref.name} for it)",
                    where + ref.key,
                )
            values.update(
                zip(ref.columns, (math.nan if v is None else v for v in row), strict=True)
            )
            item.enriched[ref.name] = ref.version
    return [values[name] for name in served.features]


def _key(value: Any, field: str, redact: Redactor) -> None:
    """A join key or declared string field: text, or an integer code of 64 bits at most."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ApiError(
            422, "invalid_field", f"{field}: expected a string, got {redact(value)}", field
        )
    if isinstance(value, int):
        identifier(value, field, redact)


def _text(item: Item, served: Served, name: str, value: Any, where: str, redact: Redactor) -> float:
    """A text input's code; a level the model never saw is scored as unseen, and noted."""
    if value is not None and not isinstance(value, str):
        raise ApiError(
            422,
            "invalid_field",
            f"{where}{name}: expected text or null, got {redact(value)}",
            where + name,
        )
    return _coded(item, served, name, value)


def _coded(item: Item, served: Served, name: str, value: Any) -> float:
    """A text input's code, noting the text as given and whether its level is unseen."""
    code, unseen = served.code(name, value)
    if item.text is None:
        item.text = {}
    item.text[name] = value
    if unseen:
        item.unseen = [*(item.unseen or []), name]
    return code


def _unexpected(served: Served, name: str, where: str, entity: str) -> ApiError:
    for ref in served.enrich:
        if name in ref.columns:
            return ApiError(
                422,
                "unknown_field",
                f"{where}{name}: {ref.name} are joined by the service from {ref.key}; "
                "do not send them",
                where + name,
            )
    field = short(where + name)
    return ApiError(
        422,
        "unknown_field",
        f"{field}: not an input of {served.model} "
        f"(send '{entity}' alone, or {', '.join(served.payload)})",
        field,
    )


def parse_body(body: Any, view: ModelView, redact: Redactor) -> tuple[list[Item], bool]:
    """The items of a body and whether it was a batch (``{"instances": [...]}``)."""
    if isinstance(body, dict) and "instances" in body:
        refuse_unknown(body, ["instances"])
        rows = body["instances"]
        if not isinstance(rows, list) or not rows:
            raise ApiError(
                422, "invalid_field", "instances: expected a non-empty list", "instances"
            )
        limit = view.spec.max_batch
        if len(rows) > limit:
            raise ApiError(
                422,
                "batch_too_large",
                f"instances: {len(rows)} rows, at most {limit} per request",
                "instances",
            )
        items = [parse_item(r, view.entity, redact, f"instances.{i}.") for i, r in enumerate(rows)]
        return items, True
    return [parse_item(body, view.entity, redact, "")], False


def champion_of(view: ModelView) -> Served:
    """The model's champion; 503 while none is approved and loaded."""
    champion = view.by_alias(vocab.CHAMPION)
    if champion is None:
        raise ApiError(
            503,
            "no_champion",
            f"model '{view.name}' has no approved champion loaded; approve a version",
            model=view.name,
        )
    return champion


def _other(traffic: TrafficSpec) -> str:
    """The alias a traffic policy shares requests with."""
    return traffic.alias or vocab.CHALLENGER


def _bucket(key: str) -> float:
    return zlib.crc32(key.encode()) / 2**32


class Scorer:
    """The prediction path: parse, route, look up, score, answer, log."""

    def __init__(
        self, features: FeatureSource | None, log: PredictionLog, metrics: Metrics, redact: Redactor
    ) -> None:
        self.features, self.log, self.metrics, self.redact = features, log, metrics, redact

    def pick(self, view: ModelView, target: Target, item: Item) -> tuple[Served, str]:
        """The version that answers an item, and the alias it answers under."""
        if target.served is not None:
            return target.served, target.alias or ""
        champion = champion_of(view)
        traffic = view.spec.traffic
        if traffic.mode == "canary" and traffic.share > 0:
            other = view.by_alias(_other(traffic))
            key = item.key or (None if item.raw_id is None else str(item.raw_id))
            if other is not None and key is not None and _bucket(key) < traffic.share:
                return other, _other(traffic)
        return champion, vocab.CHAMPION

    async def fill(
        self,
        view: ModelView,
        items: list[Item],
        chosen: list[tuple[Served, str]],
        minimal: bool = False,
        batch: bool = False,
    ) -> str | None:
        """Feature values for every item: from its payload, or from the online store. An
        unknown id fails a single request (404) and marks its item in a batch."""
        for item, (served, _) in zip(items, chosen, strict=True):
            if item.payload is not None:
                item.values = payload_values(item, served, view.entity, self.redact, minimal)
        keys = [i.key for i in items if i.key is not None]
        if not keys:
            return None
        if self.features is None:
            raise ApiError(
                503, "no_feature_source", "this service has no feature source", model=view.name
            )
        found = await fetch_rows(
            self.features, view.name, keys, "send the features in the payload, or retry"
        )
        missing = [k for k, row in zip(keys, found.rows, strict=True) if row is None]
        if missing and not batch:
            shown = ", ".join(self.redact(k) for k in missing[:10])
            raise ApiError(
                404,
                "unknown_entity",
                f"{view.entity} {shown}: no features in the online store of {view.name}",
                view.entity,
                view.name,
            )
        rows = iter(found.rows)
        for item, (served, _) in zip(items, chosen, strict=True):
            if item.key is not None:
                row = next(rows)
                item.missing = row is None
                item.row = row or {}
                item.values = None if row is None else _row_values(row, served, item)
        return found.version

    async def predict(
        self, view: ModelView, target: Target, body: Any, request_id: str, minimal: bool = False
    ) -> dict[str, Any]:
        """Score a body; ``minimal``: payloads carry only the inputs the model uses."""
        started = time.perf_counter()
        items, batch = parse_body(body, view, self.redact)
        chosen = [self.pick(view, target, item) for item in items]
        using = {id(s): s for s, _ in chosen}.values()
        for served in using:  # a swap waits for these before it unloads a version
            served.in_flight += 1
        try:
            version = await self.fill(view, items, chosen, minimal, batch)
            found = [i for i, item in enumerate(items) if not item.missing]
            scores = self._score([items[i] for i in found], [chosen[i] for i in found])
        finally:
            for served in using:
                served.in_flight -= 1
        answers = [
            self._unknown(view, item, i) if item.missing else {} for i, item in enumerate(items)
        ]
        elapsed = time.perf_counter() - started
        for i, score in zip(found, scores, strict=True):
            served, alias = chosen[i]
            answers[i] = self._answer(view, items[i], served, alias, score, version)
            self._record(served, alias, items[i], score, elapsed, request_id, False)
        self._shadow(view, target, [items[i] for i in found], request_id)
        self.metrics.prediction_time(view.name, chosen[0][0].version, elapsed)
        return {"predictions": answers} if batch else answers[0]

    def _unknown(self, view: ModelView, item: Item, index: int) -> dict[str, Any]:
        """A batch item whose id the online store does not know, answered as such."""
        field = f"instances.{index}.{view.entity}"
        self.metrics.errors.labels(view.name, "unknown_entity").inc()
        message = (
            f"{field}: {view.entity} {self.redact(item.raw_id)} has no features in the online store"
        )
        return {
            view.entity: item.raw_id,
            "error": {"code": "unknown_entity", "message": message, "field": field},
        }

    @staticmethod
    def _score(items: list[Item], chosen: list[tuple[Served, str]]) -> list[float]:
        if not items:
            return []
        if len(items) == 1:
            runtime = chosen[0][0].runtime
            return [float(runtime.score(np.array([items[0].values], dtype=runtime.dtype))[0])]
        scores = [0.0] * len(items)
        groups: dict[int, list[int]] = {}
        for i, (served, _) in enumerate(chosen):
            groups.setdefault(id(served), []).append(i)
        for rows in groups.values():
            served = chosen[rows[0]][0]
            x = np.array([items[i].values for i in rows], dtype=served.runtime.dtype)
            for i, score in zip(rows, served.runtime.score(x), strict=True):
                scores[i] = float(score)
        return scores

    @staticmethod
    def _answer(
        view: ModelView, item: Item, served: Served, alias: str, score: float, version: str | None
    ) -> dict[str, Any]:
        answer: dict[str, Any] = {view.entity: item.raw_id, "prediction": score}
        threshold = served.threshold
        if threshold is not None:
            answer["decision"] = int(score >= threshold)
            answer["threshold"] = threshold
        answer.update(
            model=view.name, version=served.version, alias=alias, runtime=served.runtime.name
        )
        if item.key is not None:
            answer["feature_table_version"] = version
        if item.unseen:
            answer["unseen"] = item.unseen  # levels the model never saw, scored as such
        if item.enriched is not None:
            for name, joined in item.enriched.items():
                answer[f"{name}_version"] = joined
            answer["features"] = dict(zip(served.features, item.values or [], strict=True))
        return answer

    def _record(
        self,
        served: Served,
        alias: str,
        item: Item,
        score: float,
        seconds: float,
        request_id: str,
        shadow: bool,
    ) -> None:
        self.metrics.prediction(served.model, served.version, alias)
        values: list[Any] = item.values or []
        if item.text:  # text as it came, not its code
            values = [item.text.get(f, v) for f, v in zip(served.features, values, strict=True)]
        for name in item.unseen or ():
            self.metrics.unseen.labels(served.model, name).inc()
        self.log.append(
            Entry(
                request_id,
                time.time(),
                served.model,
                served.version,
                alias,
                shadow,
                item.raw_id,
                served.features,
                values,
                score,
                seconds,
                tuple(item.unseen or ()),
            )
        )

    def _shadow(self, view: ModelView, target: Target, items: list[Item], request_id: str) -> None:
        traffic = view.spec.traffic
        if (
            target.served is not None
            or traffic.mode != "shadow"
            or random.random() >= traffic.share
        ):
            return
        other = view.by_alias(_other(traffic))
        if other is None:
            return

        def score_later() -> None:  # after the answer has gone
            started = time.perf_counter()
            try:
                values = [_values_for(i, other, view.entity, self.redact) for i in items]
            except ApiError:
                return  # the shadow takes other inputs than this payload gives
            scores = other.runtime.score(np.array(values, dtype=other.runtime.dtype))
            seconds = time.perf_counter() - started
            for item, score in zip(items, scores, strict=True):
                self._record(other, _other(traffic), item, float(score), seconds, request_id, True)

        asyncio.get_running_loop().call_soon(score_later)


def _values_for(item: Item, served: Served, entity: str, redact: Redactor) -> list[float]:
    if item.payload is not None:
        return payload_values(item, served, entity, redact)
    return _row_values(item.row or {}, served, item)


def _row_values(row: dict[str, Any], served: Served, item: Item) -> list[float]:
    """A stored row's values in the model's order (text inputs coded as trained)."""
    if not served.levels:
        return [math.nan if (v := row.get(f)) is None else float(v) for f in served.features]
    values = []
    for name in served.features:
        value = row.get(name)
        if name in served.levels:
            values.append(_coded(item, served, name, value))
        else:
            values.append(math.nan if value is None else float(value))
    return values
