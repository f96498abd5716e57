"""Benchmark: train credit_risk on 1M generated loans with a 20-trial search.

Run by ``make bench-training``. Times each stage of ``tabship train`` and, as the baseline
of the same run, the notebook's own training recipe (fill with 0, SMOTE on everything,
random split, 5-tree forest) on the same feature table. Writes a section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import time
from pathlib import Path

from bench.results import write_section

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "bench" / ".work"
SECTION = "## Training (credit_risk)"


def main() -> None:
    """Build features, train stage by stage, and time the notebook's recipe on the same split."""
    from bench.bench_features import _machine, _source
    from tabship.pipeline import Pipeline
    from tabship.settings import Settings
    from tabship.training.baseline import notebook_baseline
    from tabship.training.frame import load
    from tabship.training.split import holdout

    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--trials", type=int, default=20)
    args = parser.parse_args()
    source = _source(args.rows)
    home = WORK / "training"
    shutil.rmtree(home, ignore_errors=True)
    settings = Settings(home=home, usecases=REPO / "examples")
    pipeline = Pipeline(settings)
    usecase = pipeline.usecase("credit_risk")
    pipeline.build(usecase, [source])
    stages: list[tuple[str, float]] = []
    started = time.perf_counter()

    def step(name: str) -> None:
        stages.append((name, time.perf_counter() - started))
        print(f"{time.perf_counter() - started:7.1f} s  {name}", flush=True)

    result = pipeline.train(usecase, trials=args.trials, step=step)  # publish included
    total = time.perf_counter() - started
    frame = load(usecase, settings, None).rows
    assert usecase.training is not None
    split = holdout(frame, usecase.training.split, usecase.training.seed)
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
    durations = [
        (name, (stages[i + 1][1] if i + 1 < len(stages) else total) - at)
        for i, (name, at) in enumerate(stages)
    ]
    lines = [
        SECTION,
        "",
        f"Measured {dt.date.today().isoformat()} on {_machine()} by `make bench-training`.",
        f"{args.rows:,} generated loans, {args.trials}-trial search (declared search sample "
        f"{usecase.training.search_rows:,} rows, {usecase.training.cv_folds}-fold CV), final fit "
        f"on the whole training split ({len(split.train):,} rows). Chosen: {result.family}, "
        f"test PR-AUC {result.metrics['pr_auc']:.4f}.",
        "",
        "| stage | time (s) |",
        "| --- | ---: |",
        *(f"| {name} | {seconds:.1f} |" for name, seconds in durations),
        f"| **total `tabship train`** | **{total:.1f}** |",
        "",
        f"Baseline in the same run: the notebook's training recipe on the same table took "
        f"{baseline:.1f} s, so a full tracked search is {total / baseline:.1f}× the notebook's "
        "single unsearched, leaky fit.",
        "",
    ]
    doc = write_section(SECTION, lines[1:])
    print(f"total {total:.1f} s; wrote {doc}")


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
