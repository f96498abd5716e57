"""Benchmark: ``tabship train`` stage by stage, on two use cases.

Run by ``make bench-training``. credit_risk: 1M generated loans, a 20-trial search; the
baseline of the same run is the notebook's own training recipe (fill with 0, SMOTE on
everything, random split, 5-tree forest) on the same feature table. credit_scoring: the
public application table's size (307,511 rows, 124 inputs), a 20-trial search over
LightGBM, random forest and logistic regression; the baseline of the same run is one
LightGBM fit with default parameters on the same training split (the public kernels'
recipe). Each writes its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench.results import write_section

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "bench" / ".work"


def _timed(pipeline: Any, usecase: Any, trials: int) -> tuple[Any, list[tuple[str, float]]]:
    """Train, recording when each stage starts; (result, [(stage, seconds)])."""
    stages: list[tuple[str, float]] = []
    started = time.perf_counter()

    def step(name: str) -> None:
        stages.append((name, time.perf_counter() - started))
        print(f"{time.perf_counter() - started:7.1f} s  {name}", flush=True)

    result = pipeline.train(usecase, trials=trials, step=step)  # publish included
    total = time.perf_counter() - started
    durations = [
        (name, (stages[i + 1][1] if i + 1 < len(stages) else total) - at)
        for i, (name, at) in enumerate(stages)
    ]
    return result, [*durations, ("**total `tabship train`**", total)]


def _table(durations: list[tuple[str, float]]) -> list[str]:
    return [
        "| stage | time (s) |",
        "| --- | ---: |",
        *(f"| {name} | {seconds:.1f} |" for name, seconds in durations),
    ]


def _split(usecase: Any, settings: Any) -> Any:
    from tabship.training.frame import load
    from tabship.training.split import holdout

    frame = load(usecase, settings, None).rows
    return holdout(frame, usecase.training.split, usecase.training.seed)


def _fresh(name: str, folder: str) -> tuple[Any, Any, Any]:
    """An empty home under bench/.work: (settings, pipeline, the use case)."""
    from tabship.pipeline import Pipeline
    from tabship.settings import Settings

    home = WORK / folder
    shutil.rmtree(home, ignore_errors=True)
    settings = Settings(home=home, usecases=REPO / "examples")
    pipeline = Pipeline(settings)
    usecase = pipeline.usecase(name)
    assert usecase.training is not None
    return settings, pipeline, usecase


def credit_risk(rows: int, trials: int, machine: str) -> tuple[str, list[str]]:
    """Features from ``rows`` loans, then the search; the notebook recipe as baseline."""
    from bench.bench_features import _source
    from tabship.training.baseline import notebook_baseline

    settings, pipeline, usecase = _fresh("credit_risk", "training")
    pipeline.build(usecase, [_source(rows)])
    result, durations = _timed(pipeline, usecase, trials)
    split = _split(usecase, settings)
    t0 = time.perf_counter()
    notebook_baseline(
        split.train,
        split.test,
        usecase.feature_view.features,
        usecase.entity,
        str(usecase.target),
        usecase.training.seed,
    )
    baseline = time.perf_counter() - t0
    total = durations[-1][1]
    return "## Training (credit_risk)", [
        "",
        f"Measured {dt.date.today().isoformat()} on {machine} by `make bench-training`.",
        f"{rows:,} generated loans, {trials}-trial search (declared search sample "
        f"{usecase.training.search_rows:,} rows, {usecase.training.cv_folds}-fold CV), final fit "
        f"on the whole training split ({len(split.train):,} rows). Chosen: {result.family}, "
        f"test PR-AUC {result.metrics['pr_auc']:.4f}.",
        "",
        *_table(durations),
        "",
        f"Baseline in the same run: the notebook's training recipe on the same table took "
        f"{baseline:.1f} s, so a full tracked search is {total / baseline:.1f}× the notebook's "
        "single unsearched, leaky fit.",
        "",
    ]


def _kernel_fit(usecase: Any, split: Any) -> tuple[float, float]:
    """One default LightGBM on the training split (text as pandas categories): seconds,
    test ROC-AUC."""
    import lightgbm
    from sklearn.metrics import roc_auc_score

    inputs = list(usecase.feature_view.features)

    def frame(rows: Any) -> Any:
        x = rows[inputs].copy()
        for name in x.select_dtypes(include=["object", "string"]).columns:
            x[name] = x[name].astype("category")
        return x

    target = str(usecase.target)
    t0 = time.perf_counter()
    model = lightgbm.LGBMClassifier(verbose=-1).fit(frame(split.train), split.train[target])
    seconds = time.perf_counter() - t0
    scores = np.asarray(model.predict_proba(frame(split.test)))[:, 1]
    return seconds, float(roc_auc_score(split.test[target], scores))


def credit_scoring(rows: int, trials: int, machine: str) -> tuple[str, list[str]]:
    """``rows`` generated applications, then the declared three-family search."""
    from tabship.data.generate import generate

    settings, pipeline, usecase = _fresh("credit_scoring", "training-credit-scoring")
    files = generate(usecase, rows, WORK / f"credit-scoring-{rows}")
    pipeline.build(usecase, files)
    result, durations = _timed(pipeline, usecase, trials)
    split = _split(usecase, settings)
    kernel, kernel_auc = _kernel_fit(usecase, split)
    total = durations[-1][1]
    spec = usecase.training
    families = ", ".join(spec.families)
    verdict = "met" if total <= 15 * 60 else "**missed**"
    return "## Training (credit_scoring)", [
        "",
        f"Measured {dt.date.today().isoformat()} on {machine} by `make bench-training`.",
        f"{rows:,} generated applications ({len(usecase.feature_view.features)} features), "
        f"{trials}-trial search over {families} (search sample {spec.search_rows:,} rows, "
        f"{spec.cv_folds}-fold CV, class weights, cost 5·FN + FP), final fit on the whole "
        f"training split ({len(split.train):,} rows), calibration, ONNX export, explainer and "
        f"its additivity check. Chosen: {result.family}, test ROC-AUC "
        f"{result.metrics['roc_auc']:.4f}.",
        "",
        *_table(durations),
        "",
        f"Baseline in the same run: one LightGBM with default parameters on the same training "
        f"split (text as pandas categories, no search, no calibration) took {kernel:.1f} s, "
        f"test ROC-AUC {kernel_auc:.4f}; the full tracked search is {total / kernel:.0f}× that "
        f"single fit. The search is {100 * durations[1][1] / total:.0f}% of the total.",
        "",
        "| target | measured | |",
        "|---|---:|---|",
        f"| 307,511 rows, 20-trial search ≤ 15 min on 2 cores | {total / 60:.1f} min | {verdict} |",
        "",
    ]


CASES: dict[str, Callable[[int, int, str], tuple[str, list[str]]]] = {
    "credit_risk": credit_risk,
    "credit_scoring": credit_scoring,
}
ROWS = {"credit_risk": 1_000_000, "credit_scoring": 307_511}


def main() -> None:
    """Run the chosen cases (both by default) and write their sections."""
    from bench.bench_features import _machine

    parser = argparse.ArgumentParser()
    parser.add_argument("cases", nargs="*", help=f"of {', '.join(CASES)} (default: both)")
    parser.add_argument("--rows", type=int, help="rows (default: each case's own)")
    parser.add_argument("--trials", type=int, default=20)
    args = parser.parse_args()
    unknown = set(args.cases) - set(CASES)
    if unknown:
        parser.error(f"unknown case(s): {', '.join(sorted(unknown))}")
    for case in args.cases or CASES:
        section, lines = CASES[case](args.rows or ROWS[case], args.trials, _machine())
        print("\n".join(lines))
        print(f"wrote {write_section(section, lines)}")


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
