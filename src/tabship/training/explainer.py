"""Each version's explainer, made at training: matched to its family (LightGBM's own
TreeSHAP, shap's TreeSHAP for forests, the closed form for linear models), checked to
add up to the served score, and its global importance measured on held-out rows."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tabship.explain import explainers
from tabship.explain.columns import Column, ColumnMap
from tabship.explain.explanation import FOLDER, REFERENCE, SPEC, VersionExplainer
from tabship.explain.groups import sums
from tabship.registry.gates import GateResult
from tabship.runtime.onnx import OnnxRuntime
from tabship.training.export import OnnxExport
from tabship.training.fitted import Fitted
from tabship.usecase import UseCase
from tabship.usecase.explain import ExplainSpec

# Base + contributions vs. the served score: in log-odds, or relative to a value.
ADDITIVITY_TOLERANCE = 1e-5
# Held-out rows explained at registration: checked, ranked, kept to compare clients with.
SAMPLE_ROWS = 2000


@dataclass(frozen=True)
class Built:
    """A version's explainer: its files (written into the bundle) and its checks."""

    kind: str
    payload: Any
    spec: dict[str, Any]
    gate: GateResult
    reference: dict[str, np.ndarray] | None = None  # held-out clients to compare with

    def write(self, bundle: Path) -> None:
        """Write the explainer (and its reference clients) into ``bundle/explain``."""
        folder = bundle / FOLDER
        explainers.save(self.kind, self.payload, folder)
        (folder / SPEC).write_text(json.dumps(self.spec, indent=1))
        if self.reference is not None:
            np.savez_compressed(folder / REFERENCE, **self.reference)  # type: ignore[arg-type]


def column_map(fitted: Fitted) -> ColumnMap:
    """Which coded input each column the model reads comes from, and how."""
    columns = [Column(input=i, kind="value") for i in range(len(fitted.inputs))]
    for name, step in fitted.predictor.steps[:-1]:
        if name == "onehot":
            columns = _one_hot(step, columns)
        elif name == "impute":
            columns = _imputed(step, columns)
        elif name == "scale":
            columns = [
                replace(c, center=float(m), scale=float(s))
                for c, m, s in zip(columns, step.mean_, step.scale_, strict=True)
            ]
    return ColumnMap(columns)


def _one_hot(step: Any, columns: list[Column]) -> list[Column]:
    encoder = step.named_transformers_["onehot"]
    coded = list(step.transformers_[0][2])
    levels = [
        Column(input=columns[t].input, kind="level", code=float(code))
        for t, categories in zip(coded, encoder.categories_, strict=True)
        for code in categories
    ]
    return levels + [c for i, c in enumerate(columns) if i not in set(coded)]


def _imputed(step: Any, columns: list[Column]) -> list[Column]:
    stats = step.statistics_
    kept = [
        replace(c, fill=float(stats[j]) if c.kind == "value" else None)
        for j, c in enumerate(columns)
        if not np.isnan(stats[j])
    ]
    flags = step.indicator_.features_ if step.add_indicator else []
    return kept + [Column(input=columns[j].input, kind="missing") for j in flags]


def _family(fitted: Fitted) -> tuple[str, Any, str] | None:
    """(kind, what to save, raw output) of the model's family; None: no explainer."""
    model = fitted.pipeline.named_steps["model"]
    name = type(model).__name__
    classifier = fitted.task == "classification"
    if name.startswith("LGBM"):
        return "lightgbm", model.booster_.model_to_string(), "log-odds" if classifier else "value"
    if name.startswith("RandomForest"):
        return "forest", model, "probability" if classifier else "value"
    if name == "LogisticRegression":
        return "linear", (model.coef_[0], float(model.intercept_[0])), "log-odds"
    return None


def build(
    usecase: UseCase, fitted: Fitted, test: pd.DataFrame, exported: OnnxExport
) -> Built | None:
    """The version's explainer, checked on held-out rows (``test``: the test split, ids and
    labels included) against the served runtime."""
    family = _family(fitted)
    if family is None:
        return None
    kind, payload, raw = family
    classifier = fitted.task == "classification"
    calibration = fitted.calibration
    said = usecase.explain or ExplainSpec()
    spec: dict[str, Any] = {
        "kind": kind,
        "method": _METHODS[kind],
        "inputs": fitted.inputs,
        "text": fitted.text,
        "columns": column_map(fitted).as_json(),
        "scale": "log-odds" if classifier else "value",
        "raw": raw,
        "calibration": None if calibration is None else vars(calibration),
        "texts": said.texts(),
        "groups": said.grouped(),
        "compare": said.comparisons(),
        "boundary": said.boundary,
        "words": said.words.model_dump(),
        "top": said.top,
    }
    explainer = VersionExplainer(spec, _in_memory(kind, payload, classifier))
    # One random sample of held-out rows, explained and scored once: the additivity check,
    # the global importance and the reference clients all read it. Coded as a request
    # gives them (the served runtime may round them to float32 itself).
    rows = np.random.default_rng(0).permutation(len(test))[:SAMPLE_ROWS]
    coded = fitted.encode(test.iloc[rows])
    served = _served(fitted, coded, exported)
    found = explainer.contributions(coded)
    gap = np.abs(found.total - served)
    if not classifier:  # a value's units: relative, as float32 holds about seven digits
        gap = gap / np.maximum(1.0, np.abs(served))
    diff = float(np.max(gap))
    spec["additivity"] = {"max_diff": diff, "rows": len(rows), "tolerance": ADDITIVITY_TOLERANCE}
    mean_abs = np.abs(found.values).mean(axis=0)
    spec["importance"] = [
        {"input": fitted.inputs[i], "importance": float(mean_abs[i])}
        for i in np.argsort(-mean_abs, kind="stable")
    ]
    spec["group_importance"] = _group_importance(explainer, found.values)
    gate = GateResult(
        "explanations add up to the served score",
        diff <= ADDITIVITY_TOLERANCE,
        diff,
        ADDITIVITY_TOLERANCE,
    )
    scores = 1 / (1 + np.exp(-served)) if classifier else served
    reference = _reference(usecase, test.iloc[rows], coded, found.values, scores)
    return Built(kind, payload, spec, gate, reference)


def _group_importance(explainer: VersionExplainer, values: np.ndarray) -> list[dict[str, Any]]:
    """Mean absolute contribution of each declared group (its members' sum), largest first."""
    moved = np.abs(sums(values, explainer.units)).mean(axis=0)
    found = [(u.name, float(m)) for u, m in zip(explainer.units, moved, strict=True) if u.group]
    return [{"group": g, "importance": m} for g, m in sorted(found, key=lambda f: -f[1])]


def _reference(
    usecase: UseCase,
    test: pd.DataFrame,
    coded: np.ndarray,
    contributions: np.ndarray,
    scores: np.ndarray,
) -> dict[str, np.ndarray] | None:
    """Held-out clients (never trained on) a client is compared with: their inputs,
    contributions, served scores and outcomes. Aggregates of them leave the service,
    never a row."""
    if usecase.entity not in test.columns or usecase.target not in test.columns:
        return None
    return {
        "ids": test[usecase.entity].astype(str).to_numpy().astype("U"),  # no pickles
        "inputs": coded.astype(np.float32),
        "contributions": contributions.astype(np.float32),
        "scores": scores.astype(np.float32),
        "outcomes": test[str(usecase.target)].to_numpy(np.float64).astype(np.float32),
    }


_METHODS = {
    "lightgbm": "exact TreeSHAP (LightGBM pred_contrib)",
    "forest": "exact TreeSHAP (shap) in probability, scaled to the calibrated log-odds",
    "linear": "closed form: coefficient × standardised value",
}


def _in_memory(kind: str, payload: Any, classifier: bool) -> explainers.Explainer:
    if kind == "lightgbm":
        return explainers.LightGBMExplainer(payload)
    if kind == "forest":
        return explainers.ForestExplainer(payload, classifier)
    coef, intercept = payload
    return explainers.LinearExplainer(np.asarray(coef), intercept)


def _served(fitted: Fitted, coded: np.ndarray, exported: OnnxExport) -> np.ndarray:
    """The served scores of coded rows, in the explanation's scale (log-odds or value)."""
    classifier = fitted.task == "classification"
    if exported.usable and exported.graph is not None:
        scores = OnnxRuntime(exported.graph, classifier).score(coded.astype(np.float32))
    else:
        scores = fitted.score_codes(coded)
    scores = np.asarray(scores, dtype=np.float64)
    if not classifier:
        return scores
    p = np.clip(scores, 1e-15, 1 - 1e-15)
    return np.asarray(np.log(p / (1 - p)))
