"""The pandera form of the contract flags the same rows, under the same rule names."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pandera.pandas as pa
import pyarrow.parquet as pq
import pytest

from tabship.data.pandera_schema import rule_name, to_pandera
from tabship.features.build import build_features
from tabship.features.engine import DuckDBEngine
from tabship.settings import Settings
from tabship.stores.offline import OfflineStore
from tabship.usecase import UseCase

TODAY = dt.date(2026, 1, 1)


def test_pandera_and_the_pipeline_quarantine_the_same_rows(
    credit_risk: UseCase, dirty_loans: Path, settings: Settings, duckdb_engine: DuckDBEngine
) -> None:
    frame = pq.read_table(dirty_loans).to_pandas(date_as_object=False)
    with pytest.raises(pa.errors.SchemaErrors) as caught:
        to_pandera(credit_risk.contract, TODAY).validate(frame, lazy=True)
    failures = caught.value.failure_cases
    failures = failures[failures["index"].notna()]
    # A frame-wide check reports each failing row once per column: count rows once.
    pairs = {
        (rule_name(c, k), int(i))
        for c, k, i in zip(failures["column"], failures["check"], failures["index"], strict=True)
    }
    theirs = Counter((rule, int(frame.loc[i, "loan_id"])) for rule, i in pairs)
    report = build_features(
        credit_risk,
        [dirty_loans],
        duckdb_engine,
        OfflineStore(settings.offline_dir),
        settings.reports_dir,
        today=TODAY,
    ).report
    quarantine = OfflineStore(settings.offline_dir).dataset("credit_risk", "quarantine").to_table()
    ours = Counter(
        (rule, key)
        for rules, key in zip(
            quarantine.column("rules").to_pylist(),
            quarantine.column("loan_id").to_pylist(),
            strict=True,
        )
        for rule in rules
    )
    assert ours == theirs
    assert sum(report.by_rule.values()) == sum(theirs.values())


def test_sentinel_is_parsed_to_missing_not_flagged(credit_risk: UseCase, loans: Path) -> None:
    frame = pq.read_table(loans).to_pandas(date_as_object=False).head(2000)
    validated = to_pandera(credit_risk.contract, TODAY).validate(frame)
    sentinel = frame["job_start_date"] == "3021-09-18"
    assert sentinel.any()
    assert validated.loc[sentinel, "job_start_date"].isna().all()
