"""One training run: feature-table version → split → search → threshold → fit →
evaluate → track in MLflow → register as ``challenger`` with its gate results."""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tabship.errors import UseCaseError
from tabship.monitoring.profile import Profile
from tabship.registry import vocabulary as vocab
from tabship.registry.client import Registry, artifact_root, tracking_uri
from tabship.registry.gates import GateResult, as_dicts, check
from tabship.runtime.onnx import OnnxRuntime
from tabship.settings import Settings
from tabship.training import calibration, explainer, importance, pipeline
from tabship.training.export import OnnxExport, export, write_bundle
from tabship.training.fitted import Fitted
from tabship.training.frame import load
from tabship.training.inputs import serving_inputs
from tabship.training.judge import Judged, judge
from tabship.training.profiling import reference_profile
from tabship.training.search import labels, predict, search
from tabship.training.split import holdout
from tabship.usecase import UseCase

Progress = Callable[[str], None]
EXPORT_ROWS = 5000  # test rows the ONNX export is checked on


@dataclass(frozen=True)
class TrainResult:
    """What a training run registered: its version, metrics, gates and report."""

    run_id: str
    model_name: str
    version: str
    family: str
    metrics: dict[str, float]
    baseline: dict[str, float]
    gates: list[GateResult]
    report: str
    feature_version: int
    runtime: str = "onnx"  # what will serve it: onnx or native
    runtime_reason: str = ""  # why: the ONNX parity check's verdict

    @property
    def gates_passed(self) -> bool:
        """Whether every declared gate passed."""
        return all(g.passed for g in self.gates)


def _sample_groups(frame: pd.DataFrame, column: str, rows: int | None, seed: int) -> pd.DataFrame:
    """Whole entities, at random, until ``rows`` rows (the search's working set)."""
    if rows is None or len(frame) <= rows:
        return frame
    groups = frame[column].unique()
    order = np.random.default_rng(seed).permutation(groups)
    sizes = frame.groupby(column).size().reindex(order).to_numpy()
    keep = order[: int(np.searchsorted(np.cumsum(sizes), rows)) + 1]
    return frame[frame[column].isin(keep)].reset_index(drop=True)


def _latency_ms(fitted: Fitted, row: pd.DataFrame, exported: OnnxExport, calls: int = 200) -> float:
    """Median time to score one row with the runtime that will serve it."""
    if exported.usable and exported.graph is not None:
        runtime = OnnxRuntime(exported.graph, fitted.task == "classification")
        coded = fitted.encode(row).astype(np.float32)

        def score() -> Any:
            return runtime.score(coded)
    else:

        def score() -> Any:
            return fitted.score(row)

    score()
    timings = []
    for _ in range(calls):
        start = time.perf_counter()
        score()
        timings.append(time.perf_counter() - start)
    return float(np.median(timings) * 1000)


def _git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], check=False, capture_output=True, text=True, timeout=5
        )
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def _declaration_hash(usecase: UseCase) -> str:
    return hashlib.sha256((usecase.folder / "usecase.yaml").read_bytes()).hexdigest()[:16]


def train(
    usecase: UseCase,
    settings: Settings,
    feature_version: int | None = None,
    trials: int | None = None,
    step: Progress = lambda _: None,
    on_trial: Callable[[int, float], None] | None = None,
) -> TrainResult:
    """One run: read the feature table, split, search, fit, judge, gate, track, register."""
    spec = usecase.training
    if spec is None:
        raise UseCaseError(f"{usecase.name} declares no training section")
    features, target = usecase.feature_view.features, str(usecase.target)
    step("reading the feature table")
    data = load(usecase, settings, feature_version)
    split = holdout(data.rows, spec.split, spec.seed)
    working = _sample_groups(split.train, spec.split.column, spec.search_rows, spec.seed)
    step(f"searching ({trials or spec.trials} trials, {len(working):,} rows)")
    found = search(working, features, target, spec, trials or spec.trials, on_trial, data.text)
    step(f"fitting {found.family} on {len(split.train):,} rows")
    fitted = _fit(usecase, split.train, found, data.text, working)
    step("judging on the test split, against the baseline")
    judged = judge(usecase, fitted, split, working, found)
    model_mb = len(pickle.dumps(fitted)) / 2**20
    step("exporting to ONNX and checking it against the native model")
    exported = export(fitted, split.test[features].iloc[:EXPORT_ROWS])
    latency = _latency_ms(fitted, split.test[features].iloc[:1], exported)
    step("explaining: contributions checked against the served score")
    explained = explainer.build(usecase, fitted, split.test, exported)
    ranking = None if explained is None else explained.spec["importance"]
    profile = reference_profile(usecase, fitted, split, data.text, ranking)
    registry = Registry(settings)
    champion = (
        registry.alias(usecase.name, vocab.CHAMPION) if usecase.name in registry.names() else None
    )
    champion_metrics = vocab.metrics_of(champion.tags) if champion is not None else None
    gates = check(spec.gates, judged.metrics, judged.baseline, champion_metrics, model_mb, latency)
    if explained is not None:
        gates.append(explained.gate)
    step("tracking and registering")
    candidate = Candidate(
        fitted,
        split.test[features],
        judged,
        gates,
        found,
        data.version,
        data.lineage,
        model_mb,
        latency,
        data.positive,
        exported,
        explained,
        profile,
    )
    return _track(usecase, settings, registry, candidate)


def _fit(
    usecase: UseCase, train: pd.DataFrame, found: Any, text: list[str], working: pd.DataFrame
) -> Fitted:
    """The searched configuration on every training row, calibrated on out-of-fold scores."""
    spec = usecase.training
    assert spec is not None
    features, target = usecase.feature_view.features, str(usecase.target)
    model = pipeline.build(
        found.family, found.params, spec.imbalance, spec.seed, spec.task, text, spec.categories
    )
    model.fit(train[features], labels(train, target, spec.task))
    # Serving scores one row at a time: a thread pool per call costs more than it saves.
    model.named_steps["model"].set_params(n_jobs=1)
    platt = None
    if spec.task == "classification":
        # Averaged probabilities (a forest's) reach 0 and 1; the others' are log-odds.
        eps = calibration.EPS if found.family == "random_forest" else calibration.MARGIN_EPS
        platt = calibration.choose(spec.calibration, found.oof, working[target].to_numpy(), eps)
    return Fitted(model, spec.task, list(features), list(text), platt)


@dataclass(frozen=True)
class Candidate:
    """A fitted model, judged and gated, with what its run records."""

    model: Any
    x_test: pd.DataFrame
    judged: Judged
    gates: list[GateResult]
    found: Any
    feature_version: int
    lineage: dict[str, str]
    model_mb: float
    latency_ms: float
    positive: str | None = None  # classification: the class scored
    exported: OnnxExport | None = None  # the ONNX export, checked against the model
    explained: explainer.Built | None = None  # its explainer (None: the family has none)
    profile: Profile | None = None  # the reference profile drift is measured against


def _track(usecase: UseCase, settings: Settings, registry: Registry, c: Candidate) -> TrainResult:
    """Log the run (parameters, metrics, report, serving bundle, model) in MLflow, then
    ask the registry to register it as the new challenger."""
    import mlflow

    # Two known warnings are noise here: models are pickled on purpose (skops cannot load
    # imblearn or LightGBM without trusted-type lists) and uv environments have no pip.
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    mlflow.set_tracking_uri(tracking_uri(settings))
    tags = _run_tags(usecase, c)
    with (
        mlflow.start_run(experiment_id=_experiment(usecase, settings)) as run,
        tempfile.TemporaryDirectory() as tmp,
    ):
        run_id = run.info.run_id
        _log_run(usecase, c, tags)
        text = c.judged.render(f"{usecase.name}: training run {run_id}", tags, c.gates, Path(tmp))
        if c.explained is not None:
            text += "\n" + importance.markdown(c.explained.spec, Path(tmp))
        _log_report(text, c, Path(tmp))
        exported = _log_bundle(usecase, settings, c, run_id, Path(tmp) / "serving")
        model_uri = _log_model(usecase, c)
    number = registry.register(
        usecase.name, model_uri, tags, _version_tags(usecase, c, run_id, exported.usable)
    )
    return TrainResult(
        run_id,
        usecase.name,
        number,
        c.found.family,
        c.judged.metrics,
        c.judged.baseline,
        c.gates,
        text,
        c.feature_version,
        "onnx" if exported.usable else "native",
        exported.reason,
    )


def _experiment(usecase: UseCase, settings: Settings) -> str:
    """The use case's MLflow experiment, created on its first run."""
    import mlflow

    experiment = mlflow.get_experiment_by_name(usecase.name)
    if experiment is not None:
        return str(experiment.experiment_id)
    root = artifact_root(settings)
    location = None if root is None else f"{root}/{usecase.name}"
    return str(mlflow.create_experiment(usecase.name, artifact_location=location))


def _run_tags(usecase: UseCase, c: Candidate) -> dict[str, str]:
    """The run's lineage: which data, which code, which family."""
    return {
        "feature_table_version": str(c.feature_version),
        "raw_data_version": c.lineage.get("raw_version", ""),
        "feature_code_version": c.lineage.get("code_version", ""),
        "git_commit": _git_commit(),
        "declaration_hash": _declaration_hash(usecase),
        "family": c.found.family,
        **({} if c.positive is None else {"positive_class": c.positive}),
        "calibration": "none" if c.model.calibration is None else "Platt (out-of-fold)",
    }


def _log_run(usecase: UseCase, c: Candidate, tags: dict[str, str]) -> None:
    """Parameters and metrics of the run."""
    import mlflow

    spec = usecase.training
    assert spec is not None
    threshold = c.judged.threshold
    mlflow.set_tags(tags)
    mlflow.log_params(
        {
            "family": c.found.family,
            **c.found.params,
            **({} if threshold is None else {"threshold": threshold}),
            "imbalance": spec.imbalance,
            "seed": spec.seed,
        }
    )
    mlflow.log_metrics({f"test_{k}": v for k, v in c.judged.metrics.items()})
    mlflow.log_metrics({f"baseline_{k}": v for k, v in c.judged.baseline.items()})
    mlflow.log_metrics(
        {"cv_score": c.found.cv_score, "model_mb": c.model_mb, "latency_ms": c.latency_ms}
    )


def _log_report(text: str, c: Candidate, folder: Path) -> None:
    """The evaluation report (with its plots, already in ``folder``) and the trials."""
    import mlflow

    (folder / "report.md").write_text(text)
    (folder / "search_trials.json").write_text(json.dumps(c.found.trials, default=str, indent=1))
    mlflow.log_artifacts(str(folder), artifact_path="report")


def _log_bundle(
    usecase: UseCase, settings: Settings, c: Candidate, run_id: str, folder: Path
) -> Any:
    """The serving bundle (ONNX graph where it matches the native model, check rows, the
    explainer)."""
    import mlflow

    spec = usecase.training
    assert spec is not None
    exported = write_bundle(
        folder,
        c.model,
        c.x_test.iloc[:EXPORT_ROWS],
        c.judged.threshold,
        {
            "use_case": usecase.name,
            "entity": usecase.entity,
            "run_id": run_id,
            "positive_class": c.positive,
            "calibration": None if c.model.calibration is None else vars(c.model.calibration),
            **serving_inputs(usecase, settings, c.lineage, c.feature_version),
            "explainer": None if c.explained is None else c.explained.spec["method"],
            "cost": None if spec.task == "regression" else spec.cost.model_dump(),
        },
        c.exported,
    )
    if c.explained is not None:
        c.explained.write(folder)
    if c.profile is not None:
        c.profile.write(folder)
    mlflow.log_artifacts(str(folder), artifact_path="serving")
    mlflow.set_tag("runtime", "onnx" if exported.usable else "native")
    if exported.max_abs_diff is not None:
        mlflow.log_metric("onnx_max_abs_diff", exported.max_abs_diff)
    return exported


def _log_model(usecase: UseCase, c: Candidate) -> str:
    """The native model, with its signature; returns its URI."""
    import mlflow
    from mlflow.models import infer_signature

    spec = usecase.training
    assert spec is not None
    example = c.x_test.iloc[:5]
    warnings.filterwarnings("ignore", message="Saving scikit-learn models in the pickle")
    info = mlflow.sklearn.log_model(
        c.model,
        name="model",
        signature=infer_signature(example, predict(c.model, example, spec.task)),
        input_example=example,
        serialization_format="cloudpickle",
        pip_requirements=["scikit-learn", "imbalanced-learn", "lightgbm", "cloudpickle"],
    )
    return str(info.model_uri)


def _version_tags(usecase: UseCase, c: Candidate, run_id: str, onnx: bool) -> dict[str, str]:
    """What a version says of itself: metrics, threshold, gates, runtime, pending."""
    spec = usecase.training
    assert spec is not None
    threshold = c.judged.threshold
    failed = [g.name for g in c.gates if not g.passed]
    return {
        **vocab.metric_tags(c.judged.metrics),
        **({} if threshold is None else {"threshold": str(threshold)}),
        "task": spec.task,
        "features": json.dumps(usecase.feature_view.features),
        "gates": json.dumps(as_dicts(c.gates)),
        **vocab.gate_tags(not failed, failed),
        "run_id": run_id,
        **vocab.pending(),
        "runtime": "onnx" if onnx else "native",
    }
