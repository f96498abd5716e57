"""Export a trained pipeline to ONNX for the low-latency serving runtime.

Serving runs the exported graph in ONNX Runtime only where it gives the native model's
answers: the export is checked on a validation sample and the largest difference is
recorded beside the graph. The graph starts from the coded matrix (text already mapped
by the version's vocabulary, which the bundle carries) and ends with the calibration.
Resampling steps (SMOTE) do nothing at prediction time and are left out of the graph.
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
from tabship.training.calibration import Platt, logit
from tabship.training.fitted import Fitted

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


def _margin_output(graph: Any) -> bool:
    """Make the classifier output its log-odds instead of probabilities, where it computes
    them (LightGBM, linear models): calibrating the log-odds directly keeps float32's
    precision where probabilities are within 1e-7 of 0 or 1."""
    found = False
    for node in graph.node:
        if node.op_type in {"TreeEnsembleClassifier", "LinearClassifier"}:
            for attribute in node.attribute:
                if attribute.name == "post_transform" and attribute.s == b"LOGISTIC":
                    attribute.s, found = b"NONE", True
    return found


def _append_head(graph: bytes, platt: Platt | None) -> bytes:
    """The graph's last step, in double precision: the classifier's log-odds (where it
    computes them; else its probabilities' log-odds), the calibration, then the
    probability. ONNX Runtime's float32 sigmoid is off by about 1% of a probability near
    1e-5; computed in double from the log-odds, served scores keep the native model's
    precision and explanations add up to them."""
    import onnx
    from onnx import TensorProto, helper

    model = onnx.load_from_string(graph)
    g = model.graph
    margin = _margin_output(g)
    if platt is None and not margin:
        return graph
    source = g.output[-1].name  # the probabilities (or, made so, log-odds), (rows, 2)

    def const(name: str, value: float | int, kind: int) -> str:
        g.initializer.append(helper.make_tensor(name, kind, [1], [value]))
        return name

    def node(op: str, inputs: list[str], output: str, **attrs: Any) -> None:
        g.node.append(helper.make_node(op, inputs, [output], **attrs))

    d = TensorProto.DOUBLE
    node("Gather", [source, const("head_col", 1, TensorProto.INT64)], "head_f", axis=1)
    node("Cast", ["head_f"], "head_x", to=d)
    eps = 0.0 if platt is None else platt.eps
    if margin:  # log-odds already: clipped as the native model's probabilities would be
        limit = float(logit(np.array([1 - eps]), eps)[0]) if eps else 1e300
        node("Clip", ["head_x", const("head_lo", -limit, d), const("head_hi", limit, d)], "head_z")
    else:
        node("Clip", ["head_x", const("head_lo", eps, d), const("head_hi", 1 - eps, d)], "head_p")
        node("Sub", [const("head_1", 1.0, d), "head_p"], "head_q")
        node("Div", ["head_p", "head_q"], "head_odds")
        node("Log", ["head_odds"], "head_z")
    slope, intercept = (1.0, 0.0) if platt is None else (platt.slope, platt.intercept)
    node("Mul", ["head_z", const("head_a", slope, d)], "head_az")
    node("Add", ["head_az", const("head_b", intercept, d)], "head_l")
    node("Neg", ["head_l"], "head_nl")
    node("Exp", ["head_nl"], "head_e")
    node("Add", ["head_e", const("head_one", 1.0, d)], "head_den")
    node("Reciprocal", ["head_den"], "head_out")
    node("Sub", ["head_one", "head_out"], "head_neg")
    node("Concat", ["head_neg", "head_out"], "calibrated", axis=1)
    kept = [o for o in g.output if o.name != source]  # no uncalibrated scores on the way out
    del g.output[:]
    g.output.extend([*kept, helper.make_tensor_value_info("calibrated", d, [None, 2])])
    return bytes(model.SerializeToString())


def export(fitted: Fitted, sample: pd.DataFrame) -> OnnxExport:
    """Convert ``fitted`` (codes to scores, calibration included), then compare ONNX Runtime
    with the native model on ``sample``."""
    classifier = fitted.task == "classification"
    try:
        from skl2onnx import convert_sklearn
        from skl2onnx.common.data_types import FloatTensorType

        _register_converters()
        options = {"zipmap": False} if classifier else None
        graph = convert_sklearn(
            fitted.predictor,
            initial_types=[(INPUT_NAME, FloatTensorType([None, len(fitted.inputs)]))],
            options=options,
            target_opset={"": 17, "ai.onnx.ml": 3},
        ).SerializeToString()
        if classifier:
            graph = _append_head(graph, fitted.calibration)
    except Exception as exc:
        _log.warning("ONNX export failed: %s", exc)
        return OnnxExport(None, None, f"export failed: {type(exc).__name__}: {exc}"[:300])
    native = fitted.score(sample)
    onnx = OnnxRuntime(graph, classifier).score(fitted.encode(sample).astype(np.float32))
    diff = deviation(onnx, native, classifier) if len(sample) else 0.0
    verdict = "parity holds" if diff <= PARITY_TOLERANCE else "parity fails"
    scale = "in probability" if classifier else "relative to the value"
    return OnnxExport(
        graph, diff, f"{verdict}: max diff {diff:.3g} {scale} on {len(sample)} test rows"
    )


def _check_rows(sample: pd.DataFrame, count: int = 20) -> pd.DataFrame:
    """Rows the server replays at load time: some with missing values, some without."""
    gaps = sample[sample.isna().any(axis=1)].head(count // 2)
    return pd.concat([gaps, sample.drop(gaps.index).head(count - len(gaps))])


def _plain(value: Any) -> Any:
    """A check-row value as JSON: text as text, a missing value as null."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return value if isinstance(value, str) else float(value)


def write_bundle(
    folder: Path,
    fitted: Fitted,
    sample: pd.DataFrame,
    threshold: float | None,
    describe: dict[str, Any],
    exported: OnnxExport | None = None,
) -> OnnxExport:
    """The serving bundle: ``meta.json`` (+ ``model.onnx`` when parity holds); ``exported``
    when the export was already made (and checked) from the same sample."""
    exported = exported or export(fitted, sample)
    folder.mkdir(parents=True, exist_ok=True)
    if exported.usable and exported.graph is not None:
        (folder / "model.onnx").write_bytes(exported.graph)
    check = _check_rows(sample[fitted.features])
    meta = {
        **describe,
        "features": fitted.inputs,
        "vocabulary": fitted.vocabulary,
        "task": fitted.task,
        "threshold": threshold,
        "runtime": "onnx" if exported.usable else "native",
        "onnx": {
            "max_abs_diff": exported.max_abs_diff,
            "tolerance": PARITY_TOLERANCE,
            "reason": exported.reason,
        },
        "check": {  # raw values, as a payload gives them: the service encodes them
            "inputs": [[_plain(v) for v in row] for row in check[fitted.inputs].itertuples(False)],
            "outputs": [float(v) for v in fitted.score(check)],
        },
    }
    (folder / "meta.json").write_text(json.dumps(meta, indent=1))
    return exported
