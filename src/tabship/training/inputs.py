"""How a version's service takes its inputs: a number, text or true/false per input, and
the reference data it joins to payloads, as the feature table the version trained on
holds them."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from tabship.data.enrich import Reference, table_name
from tabship.errors import TabshipError
from tabship.settings import Settings
from tabship.stores.offline import FEATURES_TABLE, OfflineStore
from tabship.training.frame import text_features
from tabship.usecase import UseCase


def serving_inputs(
    usecase: UseCase, settings: Settings, lineage: dict[str, str], feature_version: int
) -> dict[str, Any]:
    """How a payload gives each input (a number, text, or true/false), and the reference
    data the service joins to it, at the version this feature table used."""
    offline = OfflineStore(settings.offline_dir)
    # Features as the feature table holds them (definitions may derive a number from a
    # text column of the same name); payload fields as the contract declares them.
    table = offline.dataset(usecase.name, FEATURES_TABLE, feature_version).schema
    stored = {f.name: f.type for f in table}
    text = set(text_features(table, usecase.feature_view.features))

    def kind(f: str) -> str:
        if f in text:
            return "text"
        return "boolean" if f in stored and pa.types.is_boolean(stored[f]) else "number"

    out: dict[str, Any] = {"kinds": {f: kind(f) for f in usecase.feature_view.features}}
    if usecase.serving.payload:
        columns = usecase.contract.columns
        kinds = {"string": "string", "bool": "boolean"}
        out["payload"] = {
            f: kinds.get(columns[f].type, "number") if f in columns else "number"
            for f in usecase.serving.payload
        }
    out["enrich"] = []
    for spec in usecase.enrich:
        version, _, content = lineage.get(f"enrich.{spec.name}", "").partition(":")
        if not version:
            raise TabshipError(f"the feature table records no version of {spec.name}; rebuild it")
        rows = offline.open(usecase.name, table_name(spec), int(version)).to_pyarrow_table()
        out["enrich"].append(Reference(spec, rows, content).as_json())
    return out
