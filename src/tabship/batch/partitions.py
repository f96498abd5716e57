"""Scoring inside Spark partitions: the version's bundle is broadcast once, each executor
loads it once (ONNX Runtime where the version serves by ONNX) and scores its partitions'
Arrow batches; the scores are written by the executors and committed to Delta here.

A table that outgrows one machine scores on a cluster with no code change: only tabship
(with its serving extra) must be installed on the executors.
"""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from tabship.serving.models.mirror import META, ONNX_FILE, Repository
from tabship.serving.models.pool import Served, load_version

Scorer = Callable[[pa.RecordBatch, Served], pa.RecordBatch]


def bundle_files(folder: Path, meta: dict[str, Any]) -> dict[str, bytes]:
    """The files a runtime loads from a version's bundle (its metadata and its model),
    keyed by their path inside the bundle: what the executors receive."""
    wanted = [folder / META]
    if meta.get("runtime") == "onnx" and (folder / ONNX_FILE).is_file():
        wanted.append(folder / ONNX_FILE)
    else:
        wanted += [p for p in sorted((folder / "native").rglob("*")) if p.is_file()]
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in wanted}


@functools.lru_cache(maxsize=4)
def _loaded(model: str, version: str, files: tuple[tuple[str, bytes], ...]) -> Served:
    """One load per executor process and version (the cache outlives the partitions)."""
    root = Path(tempfile.mkdtemp(prefix="tabship-bundle-"))
    folder = Repository(root).version_dir(model, version)
    for name, content in files:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    return load_version(Repository(root), model, version)


def score_partitions(
    frame: Any,
    served: Served,
    files: dict[str, bytes],
    schema: pa.Schema,
    score: Scorer,
    folder: Path,
) -> None:
    """Score a Spark DataFrame of feature rows with ``score`` on the executors and write
    the results as Parquet files into ``folder``."""
    from pyspark.sql.pandas.types import from_arrow_schema

    shipped = frame.sparkSession.sparkContext.broadcast(tuple(sorted(files.items())))
    model, version = served.model, served.version

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        local = _loaded(model, version, shipped.value)
        for batch in batches:
            if batch.num_rows:
                yield score(batch, local)

    frame.mapInArrow(run, from_arrow_schema(schema)).write.parquet(str(folder))
