"""Batch scoring: a whole file's rows, through the feature view and a published version.

The rows go through exactly what a feature build does (contract, quarantine with reasons,
reference joins, point-in-time features as of each row), into a scratch copy of the offline
tables; the features then stream in Arrow batches through the version's runtime (ONNX
Runtime where it serves by ONNX), so memory stays bounded by a batch. The scores are one
new version of a Delta table at ``out``, with the model version, the feature-code version
and the input's hash on every row and in the commit.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tabship.features import engine as engines
from tabship.features.build import build_features
from tabship.serving.models.mirror import Repository
from tabship.serving.models.pool import Served, load_published, text_code
from tabship.settings import Settings
from tabship.stores.offline import FEATURES_TABLE, QUARANTINE_TABLE, OfflineStore
from tabship.usecase import UseCase

BATCH_ROWS = 65_536
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
) -> ScoreResult:
    """Score every valid row of ``files`` with ``version`` (a number or an alias)."""
    started = time.perf_counter()
    served = load_published(Repository(settings.serving_dir), usecase.name, version)
    settings.scratch_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=settings.scratch_dir, prefix="score-") as tmp:
        offline = OfflineStore(Path(tmp) / "offline")
        eng = engines.connect(settings, engine)
        try:
            step("computing features (contract, quarantine, point in time)")
            built = build_features(usecase, files, eng, offline, Path(tmp) / "reports")
        finally:
            eng.close()
        lineage = {
            "model": usecase.name,
            "model_version": served.version,
            "feature_code_version": usecase.fingerprint(),
            "input_hash": built.report.raw_version,
        }
        step(f"scoring with version {served.version}")
        features = offline.open(usecase.name, FEATURES_TABLE).to_pyarrow_dataset()
        scored = _scored(features, usecase.keys, served, lineage)
        table_version = _write(out, scored, lineage)
        _keep_quarantine(offline, usecase.name, out)
        for path in built.report_paths:  # the contract's quality report of these rows
            shutil.copy(path, out.parent / f"{out.name}.quality{path.suffix}")
    return ScoreResult(
        int(built.report.rows_in - built.report.rows_quarantined),
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


def _scored(
    features: Any, keys: list[str], served: Served, lineage: dict[str, str]
) -> pa.RecordBatchReader:
    """The scores of every feature row, batch by batch."""
    fields = [features.schema.field(k) for k in keys]
    fields.append(pa.field("prediction", pa.float64()))
    if served.threshold is not None:
        fields.append(pa.field("decision", pa.bool_()))
    fields += [pa.field(k, pa.string()) for k in lineage]
    schema = pa.schema(fields)

    def batches() -> Iterator[pa.RecordBatch]:
        wanted = list(dict.fromkeys([*keys, *served.features]))
        for batch in features.to_batches(columns=wanted, batch_size=BATCH_ROWS):
            if not batch.num_rows:
                continue
            score = np.asarray(served.runtime.score(encode(batch, served)), dtype=float)
            arrays = [batch.column(k) for k in keys] + [pa.array(score)]
            if served.threshold is not None:
                arrays.append(pa.array(score >= served.threshold))
            arrays += [pa.array([v] * batch.num_rows, pa.string()) for v in lineage.values()]
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)

    return pa.RecordBatchReader.from_batches(schema, batches())


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
