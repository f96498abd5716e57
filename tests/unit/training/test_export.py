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
from tabship.training.calibration import Platt
from tabship.training.export import PARITY_TOLERANCE, write_bundle
from tabship.training.fitted import Fitted
from tabship.training.pipeline import build

FEATURES = ["a", "b", "c"]


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(3)
    x = pd.DataFrame(rng.normal(size=(3000, 3)) * [1, 100, 10], columns=FEATURES)
    x.loc[rng.random(3000) < 0.1, "b"] = np.nan
    # A text input: frequent levels, rare ones (grouped), and missing values.
    levels = np.array(["rent", "own", "mortgage", "other", *[f"rare{i}" for i in range(30)]])
    weights = np.r_[[0.4, 0.3, 0.2, 0.05], np.full(30, 0.05 / 30)]
    x["home"] = rng.choice(levels, size=3000, p=weights).astype(object)
    x.loc[rng.random(3000) < 0.05, "home"] = None
    logit = x["a"] * 1.5 - x["c"] / 10 + x["b"].fillna(0) / 200 + (x["home"] == "rent")
    y = pd.Series((rng.random(3000) < 1 / (1 + np.exp(-logit))).astype(int))
    return x, y


PARAMS: dict[str, dict[str, Any]] = {
    "lightgbm": {"n_estimators": 60, "num_leaves": 15},
    "random_forest": {"n_estimators": 30, "max_depth": 8},
    "logistic": {"C": 1.0},
}


@pytest.mark.parametrize("family", ["lightgbm", "random_forest", "logistic"])
@pytest.mark.parametrize("imbalance", ["none", "smote"])
@pytest.mark.parametrize("text", [False, True], ids=["numbers", "with-text"])
def test_each_family_exports_with_parity(
    family: str, imbalance: str, text: bool, data: tuple[pd.DataFrame, pd.Series], tmp_path: Path
) -> None:
    x, y = data
    features, texts = [*FEATURES, "home"] if text else FEATURES, ["home"] if text else []
    model = build(family, PARAMS[family], imbalance, 1, "classification", texts)  # type: ignore[arg-type]
    model.fit(x[features], y)
    platt = Platt(0.8, -0.3) if imbalance == "smote" else None  # calibration is in the graph
    fitted = Fitted(model, "classification", features, texts, platt)
    bundle = tmp_path / "repo" / "m" / "versions" / "1"
    exported = write_bundle(bundle, fitted, x.iloc[:1000], 0.5, {"entity": "id"})
    assert exported.usable, exported.reason
    assert exported.max_abs_diff is not None
    assert exported.max_abs_diff <= PARITY_TOLERANCE
    meta = json.loads((bundle / "meta.json").read_text())
    assert meta["runtime"] == "onnx"
    assert any(v is None for row in meta["check"]["inputs"] for v in row)  # missing values checked
    if text:  # the service loads it, encodes the raw check rows itself and agrees
        assert any(isinstance(v, str) for row in meta["check"]["inputs"] for v in row)
        codes = meta["vocabulary"]["home"]["levels"]
        frequent = {codes[k] for k in ("rent", "own", "mortgage", "other")}
        rare = {c for k, c in codes.items() if k.startswith("rare")}
        assert len(frequent) == 4
        assert len(rare) == 1
        assert not rare & frequent
        served = load_version(Repository(tmp_path / "repo"), "m", "1")
        assert served.runtime.name == "onnx"
        assert served.code("home", "never-seen") == (meta["vocabulary"]["home"]["unseen"], True)


def test_a_regressor_on_large_values_is_served_by_onnx(
    data: tuple[pd.DataFrame, pd.Series], tmp_path: Path
) -> None:
    """Prices near 200,000: float32 holds about seven digits, so parity is relative."""
    x, _ = data
    price = 200_000 + 50_000 * x["a"] + 300 * x["c"] + 20_000 * (x["home"] == "own")
    features = [*FEATURES, "home"]
    model = build("lightgbm", PARAMS["lightgbm"], "none", 1, "regression", ["home"])
    model.fit(x[features], price)
    fitted = Fitted(model, "regression", features, ["home"])
    exported = write_bundle(tmp_path / "b", fitted, x.iloc[:1000], None, {"entity": "id"})
    assert exported.usable, exported.reason


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
    model = _Opaque().fit(x[FEATURES], y)
    bundle = tmp_path / "repo" / "m" / "versions" / "1"
    fitted = Fitted(model, "classification", FEATURES, [])
    exported = write_bundle(bundle, fitted, x.iloc[:200], 0.5, {"entity": "id"})
    assert not exported.usable
    assert "export failed" in exported.reason
    (bundle / "native").mkdir()
    (bundle / "native" / "model.pkl").write_bytes(cloudpickle.dumps(fitted))
    served = load_version(Repository(tmp_path / "repo"), "m", "1")
    assert served.runtime.name == "native"
    row = x[FEATURES].iloc[:3].to_numpy(np.float32)
    assert served.runtime.score(row) == pytest.approx(
        model.predict_proba(x[FEATURES].iloc[:3])[:, 1], abs=1e-6
    )
