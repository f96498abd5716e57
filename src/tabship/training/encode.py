"""Text (categorical) features as model inputs: each text column becomes one code per
level, fitted with the rest of the model on the rows a fold trains on.

scikit-learn's ``OrdinalEncoder`` does the work: levels rarer than ``min_rows`` (and
past ``max_levels``) share one "other" code, a missing value has its own code, and a
level never seen in training gets the "unseen" code. The service does the same mapping
with the vocabulary a version's bundle records (``vocabulary``), so a payload carries
the text as it is in the file.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

UNSEEN = -1  # a level the model never saw (LightGBM treats negative codes as missing)
MISSING = -2  # no value
TEXT_STEP = "text"


def text_codes(text: list[str], max_levels: int, min_rows: int) -> ColumnTransformer:
    """Text columns → codes, first and in ``text`` order; every other column after them."""
    encoder = OrdinalEncoder(
        handle_unknown="use_encoded_value",
        unknown_value=UNSEEN,
        encoded_missing_value=MISSING,
        min_frequency=min_rows,
        max_categories=max_levels,
        dtype=np.float64,
    )
    return ColumnTransformer(
        [("codes", encoder, list(text))],
        remainder="passthrough",
        verbose_feature_names_out=False,
    ).set_output(transform="default")


def one_hot(columns: int) -> ColumnTransformer:
    """Codes in the first ``columns`` positions → one indicator per code (for the families
    that read a number as an order: linear models, forests, neighbours)."""
    encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float64)
    return ColumnTransformer([("onehot", encoder, list(range(columns)))], remainder="passthrough")


def model_inputs(features: list[str], text: list[str]) -> list[str]:
    """The order the coded matrix has: text columns first, then the others."""
    return [*text, *(f for f in features if f not in text)]


def vocabulary(step: ColumnTransformer) -> dict[str, dict[str, Any]]:
    """Each text column's codes, as the fitted step gives them: ``levels`` (level → code),
    and the codes of ``missing`` and ``unseen`` values (what the service needs)."""
    encoder: OrdinalEncoder = step.named_transformers_["codes"]
    columns = list(step.transformers_[0][2])
    out: dict[str, dict[str, Any]] = {}
    for i, column in enumerate(columns):
        levels = [v for v in encoder.categories_[i] if isinstance(v, str)]
        probe = pd.DataFrame({c: [levels[0] if levels else None] * len(levels) for c in columns})
        probe[column] = levels
        codes = encoder.transform(probe)[:, i] if levels else np.array([])
        out[column] = {
            "levels": {lv: float(c) for lv, c in zip(levels, codes, strict=True)},
            "missing": MISSING,
            "unseen": UNSEEN,
        }
    return out


def as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as the encoder takes them: Python strings, NaN where missing (the
    encoder's missing value; None would be a level of its own)."""
    out = frame.astype(object)
    return out.where(out.notna(), np.nan)
