"""Export a trained pipeline to ONNX for the low-latency serving runtime.

Serving runs the exported graph in ONNX Runtime only where it gives the native model's
answers: the export is checked on a validation sample and the largest difference is
recorded beside the graph. Resampling steps (SMOTE) do nothing at prediction time and
are left out of the graph.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tabship.runtime.base import deviation
from tabship.runtime.onnx import INPUT_NAME, OnnxRuntime

PARITY_TOLERANCE = 1e-5
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OnnxExport:
    """The graph (None when the model cannot be exported) and why it is or is not used."""

    graph: bytes | None
    max_abs_diff: float | None
    reason: str

    @property
    def usable(self) -> bool:
        """Whether the ONNX graph matched the native model (and so is what serves)."""
        return (
            self.graph is not None
            and self.max_abs_diff is not None
            and self.max_abs_diff <= PARITY_TOLERANCE
        )


def _imputer_shape(operator: Any) -> None:
    from skl2onnx.common.data_types import FloatTensorType

    imputer = operator.raw_operator
    kept = int(np.sum(~np.isnan(imputer.statistics_)))
    flags = len(imputer.indicator_.features_) if imputer.add_indicator else 0
    rows = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = FloatTensorType([rows, kept + flags])


def _imputer_convert(scope: Any, operator: Any, container: Any) -> None:
    """SimpleImputer *with* its missing-value indicator (skl2onnx drops the indicator)."""
    from onnx import TensorProto

    imputer = operator.raw_operator
    x, out = operator.inputs[0].full_name, operator.outputs[0].full_name

    def name(prefix: str) -> str:
        return str(scope.get_unique_variable_name(prefix))

    def constant(prefix: str, values: np.ndarray, kind: int) -> str:
        var = name(prefix)
        container.add_initializer(var, kind, [len(values)], values.tolist())
        return var

    def node(op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        container.add_node(op, inputs, [output], name=scope.get_unique_operator_name(op), **attrs)
        return output

    stats = np.nan_to_num(imputer.statistics_.astype(np.float32))
    kept = np.flatnonzero(~np.isnan(imputer.statistics_)).astype(np.int64)
    missing = node("IsNaN", [x], name("missing"))
    filled = node(
        "Where", [missing, constant("stats", stats, TensorProto.FLOAT), x], name("filled")
    )
    parts = [
        node("Gather", [filled, constant("kept", kept, TensorProto.INT64)], name("kept"), axis=1)
    ]
    if imputer.add_indicator:
        flagged = imputer.indicator_.features_.astype(np.int64)
        flags = node(
            "Gather",
            [missing, constant("flagged", flagged, TensorProto.INT64)],
            name("flags"),
            axis=1,
        )
        parts.append(node("Cast", [flags], name("flag_values"), to=TensorProto.FLOAT))
    node("Concat", parts, out, axis=1)


def _register_converters() -> None:
    from lightgbm import LGBMClassifier, LGBMRegressor
    from onnxmltools.convert.lightgbm.operator_converters.LightGbm import convert_lightgbm
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )
    from sklearn.impute import SimpleImputer

    update_registered_converter(
        SimpleImputer, "TabshipSimpleImputer", _imputer_shape, _imputer_convert
    )
    update_registered_converter(
        LGBMClassifier,
        "LightGbmLGBMClassifier",
        calculate_linear_classifier_output_shapes,
        convert_lightgbm,
        options={"nocl": [True, False], "zipmap": [True, False, "columns"]},
    )
    update_registered_converter(
        LGBMRegressor,
        "LightGbmLGBMRegressor",
        calculate_linear_regressor_output_shapes,
        convert_lightgbm,
    )


def _predictor(model: Any) -> Any:
    """The pipeline without its resampling steps (inactive when predicting)."""
    from sklearn.pipeline import Pipeline

    steps = getattr(model, "steps", None)
    if steps is None:
        return model
    return Pipeline([(n, s) for n, s in steps if not hasattr(s, "fit_resample")])


def export(model: Any, sample: pd.DataFrame, classifier: bool) -> OnnxExport:
    """Convert ``model``, then compare ONNX Runtime with the native model on ``sample``."""
    try:
        from skl2onnx import convert_sklearn
        from skl2onnx.common.data_types import FloatTensorType

        _register_converters()
        options = {"zipmap": False} if classifier else None
        graph = convert_sklearn(
            _predictor(model),
            initial_types=[(INPUT_NAME, FloatTensorType([None, len(sample.columns)]))],
            options=options,
            target_opset={"": 17, "ai.onnx.ml": 3},
        ).SerializeToString()
    except Exception as exc:
        _log.warning("ONNX export failed: %s", exc)
        return OnnxExport(None, None, f"export failed: {type(exc).__name__}: {exc}"[:300])
    native = model.predict_proba(sample)[:, 1] if classifier else model.predict(sample)
    onnx = OnnxRuntime(graph, classifier).score(sample.to_numpy(np.float32))
    diff = deviation(onnx, native, classifier) if len(sample) else 0.0
    verdict = "parity holds" if diff <= PARITY_TOLERANCE else "parity fails"
    return OnnxExport(graph, diff, f"{verdict}: max abs diff {diff:.3g} on {len(sample)} rows")


def _check_rows(sample: pd.DataFrame, count: int = 20) -> pd.DataFrame:
    """Rows the server replays at load time: some with missing values, some without."""
    gaps = sample[sample.isna().any(axis=1)].head(count // 2)
    return pd.concat([gaps, sample.drop(gaps.index).head(count - len(gaps))])


def write_bundle(
    folder: Path,
    model: Any,
    sample: pd.DataFrame,
    threshold: float | None,
    describe: dict[str, Any],
) -> OnnxExport:
    """The serving bundle: ``meta.json`` (+ ``model.onnx`` when parity holds)."""
    classifier = threshold is not None
    exported = export(model, sample, classifier)
    folder.mkdir(parents=True, exist_ok=True)
    if exported.usable and exported.graph is not None:
        (folder / "model.onnx").write_bytes(exported.graph)
    check = _check_rows(sample)
    expected = model.predict_proba(check)[:, 1] if classifier else model.predict(check)
    meta = {
        **describe,
        "features": list(sample.columns),
        "task": "classification" if classifier else "regression",
        "threshold": threshold,
        "runtime": "onnx" if exported.usable else "native",
        "onnx": {
            "max_abs_diff": exported.max_abs_diff,
            "tolerance": PARITY_TOLERANCE,
            "reason": exported.reason,
        },
        "check": {
            "inputs": [
                [None if np.isnan(v) else float(v) for v in row] for row in check.to_numpy(float)
            ],
            "outputs": [float(v) for v in expected],
        },
    }
    (folder / "meta.json").write_text(json.dumps(meta, indent=1))
    return exported
