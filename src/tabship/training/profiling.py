"""The reference profile a version is monitored against, made from its training rows."""

from __future__ import annotations

from typing import Any

import pandas as pd

from tabship.monitoring.profile import Profile, make_profile
from tabship.training.fitted import Fitted
from tabship.training.split import Split
from tabship.usecase.declaration import UseCase


def reference_profile(
    usecase: UseCase,
    model: Fitted,
    split: Split,
    text: list[str],
    importance: list[dict[str, Any]] | None = None,
) -> Profile:
    """Every input's fixed bins and shares over the training split; the score's over the
    held-out split (a model's scores on its own training rows are sharper than any it
    will serve). Inputs ranked by ``importance`` where the version has an explainer."""
    features = usecase.feature_view.features
    columns = {name: _values(split.train[name], name in text) for name in features}
    scores = model.score(split.test)
    bins = usecase.monitoring.bins
    ranked = [r["input"] for r in importance or [] if r["input"] in columns]
    ranked += [n for n in features if n not in ranked]
    return make_profile(columns, set(text), scores, bins, len(split.train), ranked)


def _values(column: pd.Series, text: bool) -> Any:
    """Numbers as floats (NaN missing); text as text with None missing."""
    if text:
        return column.astype(object).where(column.notna(), None).tolist()
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
