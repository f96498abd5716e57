"""Send every row of a CSV or Parquet file to a running prediction service, one request
per row as a client would, and summarise what came back."""

from __future__ import annotations

import math
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from tabship.errors import SourceError
from tabship.usecase import UseCase


@dataclass
class Summary:
    """What a file of requests came back as: answered, refused (by code), latency, versions."""

    sent: int = 0
    answered: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    first_errors: list[str] = field(default_factory=list)
    versions: Counter[str] = field(default_factory=Counter)
    predictions: list[float] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The summary as lines a person reads."""
        out = [f"rows sent: {self.sent:,}; answered: {self.answered:,}"]
        if len(self.latencies_ms) > 1:
            cuts = statistics.quantiles(self.latencies_ms, n=100)
            out.append(f"latency per request: median {cuts[49]:.1f} ms, p99 {cuts[98]:.1f} ms")
        if self.predictions:
            p = self.predictions
            out.append(
                f"predictions: min {min(p):,.2f}, median {statistics.median(p):,.2f}, "
                f"max {max(p):,.2f}"
            )
        out += [f"answered by version {v}: {n:,}" for v, n in sorted(self.versions.items())]
        out += [f"refused ({code}): {n:,}" for code, n in self.errors.most_common()]
        out += [f"  e.g. {e}" for e in self.first_errors]
        return out


# Spellings of true and false a file may use (as DuckDB and Spark read them).
TRUE = ["1", "true", "True", "TRUE", "t", "T", "yes", "Yes", "YES", "y", "Y"]
FALSE = ["0", "false", "False", "FALSE", "f", "F", "no", "No", "NO", "n", "N"]


def model_fields(usecase: UseCase) -> set[str]:
    """What a payload to the model's own route may carry: its inputs and the entity."""
    joined = usecase.enriched_columns
    declared = usecase.serving.payload or [
        f for f in usecase.feature_view.features if f not in joined
    ]
    return {*declared, *(e.key for e in usecase.enrich), usecase.entity}


def rows(path: Path, usecase: UseCase, keep: set[str] | None = None) -> Iterator[dict[str, Any]]:
    """The file's rows as JSON objects (only the ``keep`` columns, when given; never the
    label): text where the contract declares text, true/false where it declares bool."""
    if not path.is_file():
        raise SourceError(f"no such file: {path}")
    columns = usecase.contract.columns
    text = {n for n, c in columns.items() if c.type == "string"}
    flags = {n for n, c in columns.items() if c.type == "bool"}
    try:
        if path.suffix == ".parquet":
            table = pq.read_table(path)
        else:  # declared text stays text ("0123"); columns the file lacks are ignored
            types = dict.fromkeys(text, pa.string()) | dict.fromkeys(flags, pa.bool_())
            options = pacsv.ConvertOptions(column_types=types, true_values=TRUE, false_values=FALSE)
            table = pacsv.read_csv(path, convert_options=options)
    except (pa.ArrowInvalid, OSError) as exc:
        raise SourceError(f"cannot read {path}: {str(exc).splitlines()[0]}") from exc
    names = [
        c
        for c in table.column_names
        if c != usecase.target and (keep is None or c in keep or c == usecase.entity)
    ]
    for row in table.select(names).to_pylist():
        yield {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}


def send(
    url: str,
    body_rows: Iterator[dict[str, Any]],
    headers: dict[str, str] | None = None,
    on_row: Callable[[], None] | None = None,
) -> Summary:
    """Post every body to ``url``, one request per row as a client would; never raises on a refused
    row."""
    summary = Summary()
    with httpx.Client(timeout=10.0, headers=headers) as client:
        for body in body_rows:
            summary.sent += 1
            started = time.perf_counter()
            try:
                answer = client.post(url, json=body)
            except httpx.HTTPError as exc:
                raise SourceError(f"cannot reach {url}: {exc}") from exc
            summary.latencies_ms.append((time.perf_counter() - started) * 1000)
            data = answer.json() if answer.content else {}
            if answer.status_code == 200:
                summary.answered += 1
                summary.versions[str(data.get("version", "?"))] += 1
                if isinstance(data.get("prediction"), (int, float)):
                    summary.predictions.append(float(data["prediction"]))
            else:
                error = data.get("error", {}) if isinstance(data, dict) else {}
                summary.errors[str(error.get("code", answer.status_code))] += 1
                if len(summary.first_errors) < 3:
                    summary.first_errors.append(f"row {summary.sent}: {error.get('message')}")
            if on_row is not None:
                on_row()
    return summary
