"""The rows a training run learns from: the feature table's labelled rows, with the
label as 0/1 (classification) and each feature typed as the model takes it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from tabship.errors import TabshipError, UseCaseError
from tabship.settings import Settings
from tabship.stores.offline import FEATURES_TABLE, OfflineStore
from tabship.training.encode import as_text
from tabship.usecase import UseCase


@dataclass(frozen=True)
class TrainingFrame:
    """Labelled rows, their feature-table version and lineage, and what the label means."""

    rows: pd.DataFrame
    version: int
    lineage: dict[str, str]
    text: list[str]  # features the model takes as text (categories)
    positive: str | None  # classification: the class scored (the label's 1)


def text_features(schema: pa.Schema, features: list[str]) -> list[str]:
    """Features the feature table stores as text: categories for the model."""
    stored = {f.name: f.type for f in schema}
    return [
        f
        for f in features
        if f in stored and (pa.types.is_string(stored[f]) or pa.types.is_large_string(stored[f]))
    ]


def load(usecase: UseCase, settings: Settings, version: int | None) -> TrainingFrame:
    """The declared feature-table version, labelled rows only, typed for training."""
    if usecase.target is None:
        raise UseCaseError(f"{usecase.name} declares no target")
    target, features = usecase.target, usecase.feature_view.features
    offline = OfflineStore(settings.offline_dir)
    delta = offline.open(usecase.name, FEATURES_TABLE, version)
    dataset = delta.to_pyarrow_dataset()
    text = text_features(dataset.schema, features)
    # Every column: a declared baseline or an error breakdown may use columns we do not.
    frame = dataset.to_table().to_pandas()
    # Rows without a label teach nothing and are not negatives: they stay in the feature
    # table (counted in the build's report) and out of training.
    frame = frame[frame[target].notna()]
    frame = frame.sort_values(usecase.row_key, kind="stable").reset_index(drop=True)
    # Numbers as floats: any of them may be missing at serving time, and a model's input
    # schema must say so (integer columns cannot hold a missing value). Text stays text.
    numeric = [f for f in features if f not in text]
    frame[numeric] = frame[numeric].astype("float64")
    frame[text] = as_text(frame[text])
    positive = None
    if usecase.training is not None and usecase.training.task == "classification":
        frame[target], positive = binary(frame[target], target, usecase.target_positive)
    classes = frame[target].unique()
    if len(classes) < 2:
        raise TabshipError(
            f"target '{target}' has a single class ({classes.tolist()}) in feature "
            f"version {delta.version()}: nothing to learn"
        )
    lineage = offline.lineage(usecase.name, FEATURES_TABLE, delta.version())
    return TrainingFrame(frame, delta.version(), lineage, text, positive)


def binary(
    column: pd.Series, target: str, positive: str | int | bool | None
) -> tuple[pd.Series, str]:
    """The label as 0/1 and the name of its 1: the declared ``target_positive`` (every
    other value is a 0), True for a bool label, 1 for a 0/1 label."""
    if positive is None:
        if pd.api.types.is_bool_dtype(column):
            return column.astype(int), "true"
        values = set(pd.unique(column).tolist())
        if not values <= {0, 1}:  # True and False are 1 and 0 here
            shown = ", ".join(sorted(map(str, values))[:10])
            raise UseCaseError(
                f"target '{target}' takes the values {shown}: declare which one is the "
                "positive class (target_positive: <value>)"
            )
        flags = all(isinstance(v, (bool, np.bool_)) for v in values)
        return column.astype(int), "true" if flags else "1"
    wanted = str(positive).lower()
    spelled = column.astype(str).str.lower()
    if pd.api.types.is_float_dtype(column) and wanted.lstrip("-").isdigit():
        spelled = column.map(lambda v: str(int(v)) if float(v).is_integer() else str(v))
    hits = (spelled == wanted).to_numpy()
    if not hits.any():
        shown = ", ".join(sorted(map(str, pd.unique(column).tolist()))[:10])
        raise UseCaseError(
            f"target_positive '{positive}' never occurs in target '{target}' (values: {shown})"
        )
    return pd.Series(hits.astype(np.int64), index=column.index), str(positive)
