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
from tabship.training.calibration import EPS, Platt, logit
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


def _append_platt(graph: bytes, platt: Platt) -> bytes:
    """Calibration as the graph's last step: the same Platt scaling as the native model."""
    import onnx
    from onnx import TensorProto, helper

    model = onnx.load_from_string(graph)
    g = model.graph
    source = g.output[-1].name  # the probabilities (or, made so, log-odds), (rows, 2)
    margin = _margin_output(g)

    def const(name: str, values: list[float] | list[int], kind: int) -> str:
        g.initializer.append(helper.make_tensor(name, kind, [len(values)], values))
        return name

    f, i = TensorProto.FLOAT, TensorProto.INT64
    gather = helper.make_node("Gather", [source, const("platt_col", [1], i)], ["platt_p"], axis=1)
    limit = float(logit(np.array([1 - EPS]))[0])  # the native model's clip, in log-odds
    if margin:
        to_logit = [
            helper.make_node(
                "Clip",
                ["platt_p", const("platt_lo", [-limit], f), const("platt_hi", [limit], f)],
                ["platt_z"],
            )
        ]
    else:
        to_logit = [
            helper.make_node(
                "Clip",
                ["platt_p", const("platt_lo", [EPS], f), const("platt_hi", [1 - EPS], f)],
                ["platt_pc"],
            ),
            helper.make_node("Sub", [const("platt_1", [1.0], f), "platt_pc"], ["platt_q"]),
            helper.make_node("Div", ["platt_pc", "platt_q"], ["platt_odds"]),
            helper.make_node("Log", ["platt_odds"], ["platt_z"]),
        ]
    scale = [
        helper.make_node("Mul", ["platt_z", const("platt_a", [platt.slope], f)], ["platt_az"]),
        helper.make_node("Add", ["platt_az", const("platt_b", [platt.intercept], f)], ["platt_l"]),
        helper.make_node("Sigmoid", ["platt_l"], ["platt_out"]),
        helper.make_node("Sub", [const("platt_one", [1.0], f), "platt_out"], ["platt_neg"]),
        helper.make_node("Concat", ["platt_neg", "platt_out"], ["calibrated"], axis=1),
    ]
    g.node.extend([gather, *to_logit, *scale])
    kept = [o for o in g.output if o.name != source]  # no uncalibrated scores on the way out
    del g.output[:]
    g.output.extend([*kept, helper.make_tensor_value_info("calibrated", f, [None, 2])])
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
        if fitted.calibration is not None:
            graph = _append_platt(graph, fitted.calibration)
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
) -> OnnxExport:
    """The serving bundle: ``meta.json`` (+ ``model.onnx`` when parity holds)."""
    exported = export(fitted, sample)
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
