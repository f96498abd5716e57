"""The floors tabship's API is measured against (``make bench-serving``,
``make bench-explain``).

``bare_app``: a FastAPI handler that only parses and returns JSON. ``onnx_app``: a bare
FastAPI app calling the champion's fastest in-process runtime (ONNX Runtime) on a
features payload: no online lookup, no logging, no metrics, one model. ``shap_app``: a bare
FastAPI app calling ``shap.TreeExplainer`` on a LightGBM model per request.
"""

from __future__ import annotations

import os

import numpy as np
from fastapi import FastAPI
from pydantic import BaseModel

bare_app = FastAPI()
onnx_app = FastAPI()


class Key(BaseModel):
    """A lookup body: the entity id."""

    id: int


class Features(BaseModel):
    """A payload body: the five features."""

    nb_previous_loans: float | None
    avg_amount_loans_previous: float | None
    age: float | None
    years_on_the_job: float | None
    flag_own_car: float | None


@bare_app.post("/predict")
async def bare(body: Key) -> dict[str, float]:
    """The FastAPI floor: parse and answer, no model."""
    return {"id": body.id, "prediction": 0.0}


_session = None
if os.environ.get("BENCH_ONNX"):
    import onnxruntime as ort

    _options = ort.SessionOptions()
    _options.intra_op_num_threads = 1
    _options.inter_op_num_threads = 1
    _session = ort.InferenceSession(
        os.environ["BENCH_ONNX"], _options, providers=["CPUExecutionProvider"]
    )
    _output = [_session.get_outputs()[-1].name]


@onnx_app.post("/predict")
async def onnx(body: Features) -> dict[str, float]:
    """The ONNX floor: FastAPI and ONNX Runtime, nothing else."""
    assert _session is not None
    row = [np.nan if v is None else v for v in body.model_dump().values()]
    (scores,) = _session.run(_output, {"features": np.array([row], dtype=np.float32)})
    return {"prediction": float(scores[0, 1])}


class Row(BaseModel):
    """An explain floor's body: the row exactly as the model reads it (null: missing)."""

    x: list[float | None]


shap_app = FastAPI()
_shap = None
if os.environ.get("BENCH_LIGHTGBM"):
    import lightgbm
    import shap

    _shap = shap.TreeExplainer(lightgbm.Booster(model_file=os.environ["BENCH_LIGHTGBM"]))


@shap_app.post("/explain")
async def explain(body: Row) -> dict[str, object]:
    """The explain floor: FastAPI and ``shap.TreeExplainer`` on the LightGBM model, per
    request, as a team would write it; no lookup, no score, no reasons."""
    assert _shap is not None
    row = np.array([[np.nan if v is None else v for v in body.x]], dtype=np.float64)
    values = np.asarray(_shap.shap_values(row))
    base = np.atleast_1d(np.asarray(_shap.expected_value, dtype=np.float64))
    return {"base_value": float(base[-1]), "contributions": values.reshape(-1).tolist()}
