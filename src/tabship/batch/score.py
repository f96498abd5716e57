"""Batch scoring: a whole file's rows, through the feature view and a published version.

The rows go through exactly what a feature build does (contract, quarantine with reasons,
reference joins, point-in-time features as of each row), into a scratch copy of the offline
tables; the features then stream in Arrow batches through the version's runtime (ONNX
Runtime where it serves by ONNX), so memory stays bounded by a batch. The scores are one
new version of a Delta table at ``out``, with the model version, the feature-code version
and the input's hash on every row and in the commit.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tabship.batch.partitions import bundle_files, score_partitions
from tabship.features import engine as engines
from tabship.features.as_of import AsOf
from tabship.features.build import build_features
from tabship.serving.models.mirror import Repository
from tabship.serving.models.pool import Served, load_published, text_code
from tabship.settings import Settings
from tabship.stores.offline import (
    FEATURES_TABLE,
    QUARANTINE_TABLE,
    OfflineStore,
    commit_folder,
    staged_folder,
)
from tabship.usecase import UseCase

BATCH_ROWS = 65_536
T = TypeVar("T")
R = TypeVar("R")
Step = Callable[[str], None]


@dataclass(frozen=True)
class ScoreResult:
    """What a scoring run wrote."""

    rows: int
    quarantined: int
    out: Path
    table_version: int
    model_version: str
    seconds: float


def score_files(
    usecase: UseCase,
    settings: Settings,
    files: list[Path],
    out: Path,
    version: str,
    engine: str | None = None,
    step: Step = lambda _: None,
    as_of: dt.date | None = None,
) -> ScoreResult:
    """Score every valid row of ``files`` with ``version`` (a number or an alias): on
    Spark, inside its partitions; otherwise here, batch by batch. With ``as_of``, every
    entity once, with its features as of that date."""
    started = time.perf_counter()
    at = None if as_of is None else AsOf(usecase, as_of)
    served = load_published(Repository(settings.serving_dir), usecase.name, version)
    settings.scratch_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=settings.scratch_dir, prefix="score-") as tmp:
        offline = OfflineStore(Path(tmp) / "offline")
        eng = engines.connect(settings, engine)
        try:
            step("computing features (contract, quarantine, point in time)")
            reports = Path(tmp) / "reports"
            built = build_features(
                usecase, files, eng, offline, reports, as_of=at, keep_history=False
            )
            lineage = {
                "model": usecase.name,
                "model_version": served.version,
                "feature_code_version": usecase.fingerprint(),
                "input_hash": built.report.raw_version,
                "features_as_of": "each row" if as_of is None else as_of.isoformat(),
            }
            step(f"scoring with version {served.version}")
            features = offline.open(usecase.name, FEATURES_TABLE).to_pyarrow_dataset()
            rows = features.count_rows()  # one per valid row, or per entity as of a date
            scoring = Scoring.of(usecase.keys, served, lineage, features.schema)
            if isinstance(eng, engines.SparkEngine):
                table_version = _on_spark(eng, settings, offline, usecase, served, scoring, out)
            else:
                table_version = _write(out, scoring.reader(features, served), lineage)
        finally:
            eng.close()
        _keep_quarantine(offline, usecase.name, out)
        for path in built.report_paths:  # the contract's quality report of these rows
            shutil.copy(path, out.parent / f"{out.name}.quality{path.suffix}")
    return ScoreResult(
        rows,
        built.report.rows_quarantined,
        out,
        table_version,
        served.version,
        time.perf_counter() - started,
    )


def encode(batch: pa.RecordBatch, served: Served) -> np.ndarray:
    """A batch of feature rows → the matrix the version's runtime scores (text as codes)."""
    columns = []
    for name in served.features:
        column = batch.column(name)
        codes = served.levels.get(name)
        if codes is None:
            columns.append(pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False))
        else:
            columns.append(np.array([text_code(codes, v)[0] for v in column.to_pylist()]))
    return np.column_stack(columns).astype(served.runtime.dtype)


@dataclass(frozen=True)
class Scoring:
    """How a batch of feature rows becomes a batch of scores: keys, score, decision at
    the version's threshold, and the lineage on every row. Holds no model: it travels to
    Spark's executors, which score with their own copy of the version."""

    keys: list[str]
    inputs: list[str]  # the version's features, in its order
    decides: bool  # the version has a threshold
    lineage: dict[str, str]
    features: pa.Schema

    @classmethod
    def of(
        cls, keys: list[str], served: Served, lineage: dict[str, str], features: pa.Schema
    ) -> Scoring:
        """The scoring of ``served``'s version over a feature table's ``features``."""
        return cls(keys, served.features, served.threshold is not None, lineage, features)

    @property
    def schema(self) -> pa.Schema:
        """The scores table's columns."""
        fields = [self.features.field(k) for k in self.keys]
        fields.append(pa.field("prediction", pa.float64()))
        if self.decides:
            fields.append(pa.field("decision", pa.bool_()))
        return pa.schema(fields + [pa.field(k, pa.string()) for k in self.lineage])

    @property
    def columns(self) -> list[str]:
        """The feature-table columns a batch needs."""
        return list(dict.fromkeys([*self.keys, *self.inputs]))

    def __call__(self, batch: pa.RecordBatch, served: Served) -> pa.RecordBatch:
        """Score one batch with ``served`` (this process's copy of the version)."""
        score = np.asarray(served.runtime.score(encode(batch, served)), dtype=float)
        arrays = [batch.column(k) for k in self.keys] + [pa.array(score)]
        if served.threshold is not None:
            arrays.append(pa.array(score >= served.threshold))
        n = batch.num_rows
        arrays += [pa.repeat(pa.scalar(v, pa.string()), n) for v in self.lineage.values()]
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)

    def reader(self, features: Any, served: Served) -> pa.RecordBatchReader:
        """The scores of every row of an Arrow dataset, batch by batch, in this process."""
        batches = (
            b
            for b in features.to_batches(columns=self.columns, batch_size=BATCH_ROWS)
            if b.num_rows
        )
        scored = in_order(lambda b: self(b, served), batches, os.cpu_count() or 1)
        return pa.RecordBatchReader.from_batches(self.schema, scored)


def in_order(score: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[R]:
    """``score`` over ``items`` on ``workers`` threads (ONNX Runtime and Arrow release the
    GIL), answers in the items' order, at most two per worker in flight: memory stays
    bounded by a few batches."""
    with ThreadPoolExecutor(workers, thread_name_prefix="tabship-score") as pool:
        pending: deque[Future[R]] = deque()
        for item in items:
            pending.append(pool.submit(score, item))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _on_spark(
    engine: engines.SparkEngine,
    settings: Settings,
    offline: OfflineStore,
    usecase: UseCase,
    served: Served,
    scoring: Scoring,
    out: Path,
) -> int:
    """Score the feature table inside Spark's partitions; one new version at ``out``."""
    paths = [str(f) for f in offline.files(usecase.name, FEATURES_TABLE)]
    frame = engine.session.read.parquet(*paths).select(*scoring.columns)
    bundle = Repository(settings.serving_dir).version_dir(served.model, served.version)
    files = bundle_files(bundle, served.meta)
    with staged_folder(out) as folder:
        score_partitions(frame, served, files, scoring.schema, scoring, folder)
        return commit_folder(out, folder, scoring.lineage, prefix="")


def _write(out: Path, scored: pa.RecordBatchReader, lineage: dict[str, str]) -> int:
    """One new version of the Delta table at ``out`` (a failed run leaves the last one)."""
    from deltalake import CommitProperties, DeltaTable, write_deltalake

    write_deltalake(
        str(out),
        scored,
        mode="overwrite",
        schema_mode="overwrite",
        commit_properties=CommitProperties(custom_metadata=lineage),
    )
    return int(DeltaTable(str(out)).version())


def _keep_quarantine(offline: OfflineStore, name: str, out: Path) -> None:
    """The rows the contract refused, with their reasons, beside the scores."""
    source = offline.path(name, QUARANTINE_TABLE)
    target = out.parent / f"{out.name}.quarantine"
    if source.exists():
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target)
