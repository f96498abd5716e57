"""Reference data joined by key on the backend (``enrich:`` in a declaration).

The same rows are joined into the feature table at build time and shipped with each
model for serving, so a prediction and its training used one version of them. That
version is the file's content hash; the offline store keeps every version read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from tabship.data.sources import fingerprint
from tabship.errors import SourceError
from tabship.usecase import EnrichSpec


def table_name(spec: EnrichSpec) -> str:
    """The offline table holding the versions of this reference data."""
    return f"enrich_{spec.name}"


@dataclass(frozen=True)
class Reference:
    """Reference rows read for a build (or from a bundle), with their content's version."""

    spec: EnrichSpec
    rows: pa.Table  # the key (text) and the declared columns (float64)
    version: str  # content hash of the file

    def as_json(self) -> dict[str, object]:
        """What a serving bundle carries: key -> values in declared column order."""
        keys = self.rows.column(self.spec.key).to_pylist()
        values = zip(*(self.rows.column(c).to_pylist() for c in self.spec.columns), strict=True)
        return {
            "name": self.spec.name,
            "key": self.spec.key,
            "columns": self.spec.columns,
            "version": self.version,
            "rows": {k: list(v) for k, v in zip(keys, values, strict=True)},
        }


def read_reference(spec: EnrichSpec, folder: Path) -> Reference:
    """Read and check ``spec.file`` in ``folder``; every problem is a one-line error."""
    path = folder / spec.file
    if not path.is_file():
        raise SourceError(f"{spec.name}: no such file {path} (declared enrich.file)")
    try:
        if path.suffix == ".parquet":
            raw = pq.read_table(path)
        else:
            options = pacsv.ConvertOptions(column_types={spec.key: pa.string()})
            raw = pacsv.read_csv(path, convert_options=options)
    except (pa.ArrowInvalid, OSError) as exc:
        raise SourceError(f"cannot read {path}: {str(exc).splitlines()[0]}") from exc
    missing = [c for c in [spec.key, *spec.columns] if c not in raw.column_names]
    if missing:
        raise SourceError(f"{path.name}: missing column(s): {', '.join(missing)}")
    key = raw.column(spec.key).cast(pa.string())
    blank = key.null_count + pc.sum(pc.equal(key, "")).as_py()
    if blank:
        raise SourceError(f"{path.name}: {blank} row(s) without a {spec.key}")
    if len(pc.unique(key)) != len(key):
        raise SourceError(f"{path.name}: {spec.key} repeats; one row per {spec.key} expected")
    columns = {spec.key: key}
    for name in spec.columns:
        try:
            columns[name] = raw.column(name).cast(pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise SourceError(f"{path.name}: column '{name}' is not numeric") from exc
    return Reference(spec, pa.table(columns), fingerprint([path]))
