"""ONNX export: parity with the native model for each family, and a native fallback that
the server loads and checks like any other version."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

from tabship.serving.models.mirror import Repository
from tabship.serving.models.pool import load_version
from tabship.training.export import PARITY_TOLERANCE, write_bundle
from tabship.training.pipeline import build

FEATURES = ["a", "b", "c"]


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(3)
    x = pd.DataFrame(rng.normal(size=(3000, 3)) * [1, 100, 10], columns=FEATURES)
    x.loc[rng.random(3000) < 0.1, "b"] = np.nan
    logit = x["a"] * 1.5 - x["c"] / 10 + x["b"].fillna(0) / 200
    y = pd.Series((rng.random(3000) < 1 / (1 + np.exp(-logit))).astype(int))
    return x, y


PARAMS: dict[str, dict[str, Any]] = {
    "lightgbm": {"n_estimators": 60, "num_leaves": 15},
    "random_forest": {"n_estimators": 30, "max_depth": 8},
    "logistic": {"C": 1.0},
}


@pytest.mark.parametrize("family", ["lightgbm", "random_forest", "logistic"])
@pytest.mark.parametrize("imbalance", ["none", "smote"])
def test_each_family_exports_with_parity(
    family: str, imbalance: str, data: tuple[pd.DataFrame, pd.Series], tmp_path: Path
) -> None:
    x, y = data
    model = build(family, PARAMS[family], imbalance, seed=1)  # type: ignore[arg-type]
    model.fit(x, y)
    exported = write_bundle(tmp_path / "b", model, x.iloc[:1000], 0.5, {"entity": "id"})
    assert exported.usable, exported.reason
    assert exported.max_abs_diff is not None
    assert exported.max_abs_diff <= PARITY_TOLERANCE
    meta = json.loads((tmp_path / "b" / "meta.json").read_text())
    assert meta["runtime"] == "onnx"
    assert any(v is None for row in meta["check"]["inputs"] for v in row)  # missing values checked


class _Opaque(BaseEstimator, ClassifierMixin):  # type: ignore[misc]
    """A model no ONNX converter knows."""

    def fit(self, x: pd.DataFrame, y: pd.Series) -> _Opaque:
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, x: pd.DataFrame) -> np.ndarray:
        p = 1 / (1 + np.exp(-np.nan_to_num(np.asarray(x, dtype=float)[:, 0])))
        return np.column_stack([1 - p, p])


def test_a_model_without_onnx_is_served_natively(
    data: tuple[pd.DataFrame, pd.Series], tmp_path: Path
) -> None:
    import cloudpickle

    x, y = data
    model = _Opaque().fit(x, y)
    bundle = tmp_path / "repo" / "m" / "versions" / "1"
    exported = write_bundle(bundle, model, x.iloc[:200], 0.5, {"entity": "id"})
    assert not exported.usable
    assert "export failed" in exported.reason
    (bundle / "native").mkdir()
    (bundle / "native" / "model.pkl").write_bytes(cloudpickle.dumps(model))
    served = load_version(Repository(tmp_path / "repo"), "m", "1")
    assert served.runtime.name == "native"
    row = x.iloc[:3].to_numpy(np.float32)
    assert served.runtime.score(row) == pytest.approx(
        model.predict_proba(x.iloc[:3])[:, 1], abs=1e-6
    )
