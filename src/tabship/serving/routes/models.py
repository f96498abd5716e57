"""What is loaded: versions, aliases, traffic policy and each version's record."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from tabship.registry import vocabulary as vocab
from tabship.serving.http.handlers import model_view
from tabship.serving.models.pool import ModelView, Served
from tabship.serving.routes.deps import ModelsDep, ServicesDep

router = APIRouter(prefix="/v1/models", tags=["models"])


def _version(view: ModelView, served: Served) -> dict[str, Any]:
    info = view.state.versions.get(served.version)
    tags = info.tags if info else {}
    meta = served.meta
    return {
        "version": served.version,
        "aliases": sorted(a for a, v in view.aliases.items() if v == served.version),
        "runtime": served.runtime.name,
        "onnx": meta.get("onnx"),
        "features": served.features,
        "payload": list(served.payload),
        "enrich": [{"name": e.name, "key": e.key, "version": e.version} for e in served.enrich],
        "threshold": served.threshold,
        "cost": meta.get("cost"),  # what a wrong decision costs: it chose the threshold
        "positive_class": meta.get("positive_class"),
        "explainer": None if served.explainer is None else served.explainer.method,
        "comparisons": {}
        if served.explainer is None
        else {k: v["label"] for k, v in served.explainer.comparisons().items()},
        "task": meta.get("task"),
        "metrics": vocab.metrics_of(tags),
        "approval": {
            "status": info.status if info else "unknown",
            **vocab.approval_of(tags),
        },
        "gates_passed": vocab.gates_passed(tags) if tags else None,
        "lineage": {
            k: tags.get(k)
            for k in ("feature_table_version", "raw_data_version", "git_commit", "run_id")
        },
        "loaded_at": served.loaded_at,
        "load_seconds": round(served.load_seconds, 4),
    }


def describe(view: ModelView) -> dict[str, Any]:
    """One model as the API describes it: versions, aliases, policy, failures."""
    return {
        "name": view.name,
        "entity": view.entity,
        "aliases": view.aliases,
        "registry_aliases": view.state.aliases,
        "traffic": view.spec.traffic.model_dump(),
        "max_batch": view.spec.max_batch,
        "versions": [
            _version(view, s) for _, s in sorted(view.versions.items(), key=lambda kv: int(kv[0]))
        ],
        "failures": view.failures,
        "synced_at": view.state.synced_at,
    }


@router.get("")
async def list_models(_: ModelsDep, svc: ServicesDep) -> dict[str, Any]:
    """Every model served, with its loaded versions and aliases."""
    return {
        "models": [
            {
                "name": v.name,
                "aliases": v.aliases,
                "versions": sorted(v.versions, key=int),
                "traffic": v.spec.traffic.mode,
            }
            for _, v in sorted(svc.pool.views.items())
        ],
        "sync_error": svc.last_error,
    }


@router.get("/{name}")
async def get_model(name: str, _: ModelsDep, svc: ServicesDep) -> dict[str, Any]:
    """One model in full: versions, aliases, policy, metrics, approval, load failures."""
    return describe(model_view(svc, name))
