"""A feature build end to end on generated data: counts, quarantine, report, lineage."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tabship.data.generate import generate
from tabship.errors import ContractError, StoreError
from tabship.features.build import build_features
from tabship.features.engine import DuckDBEngine
from tabship.settings import Settings
from tabship.stores.offline import FEATURES_TABLE, QUARANTINE_TABLE, OfflineStore
from tabship.usecase import UseCase


def _build(
    usecase: UseCase, files: list[Path], settings: Settings, engine: DuckDBEngine, **kw: object
):  # type: ignore[no-untyped-def]
    return build_features(
        usecase,
        files,
        engine,
        OfflineStore(settings.offline_dir),
        settings.reports_dir,
        **kw,  # type: ignore[arg-type]
    )


def test_every_row_ends_in_features_or_quarantine(
    credit_risk: UseCase, dirty_loans: Path, settings: Settings, duckdb_engine: DuckDBEngine
) -> None:
    result = _build(credit_risk, [dirty_loans], settings, duckdb_engine)
    report = result.report
    store = OfflineStore(settings.offline_dir)
    features = store.dataset("credit_risk", FEATURES_TABLE).to_table()
    quarantine = store.dataset("credit_risk", QUARANTINE_TABLE).to_table()
    assert report.rows_in == pq.read_metadata(dirty_loans).num_rows == 20_000
    assert features.num_rows == report.rows_out
    assert quarantine.num_rows == report.rows_quarantined > 100
    raw_ids = set(pq.read_table(dirty_loans, columns=["loan_id"]).column(0).to_pylist())
    assert (
        set(features.column("loan_id").to_pylist()) | set(quarantine.column("loan_id").to_pylist())
        == raw_ids
    )
    rules = set(report.by_rule)
    assert {
        "loan_amount:greater_than",
        "loan_date:not_null",
        "flag_own_car:isin",
        "loan_id:unique",
        "born_before_loan",
        "loan_date:max",
    } <= rules
    assert all(r for r in quarantine.column("rules").to_pylist())
    # Quarantined values are kept as read: the negative amounts are still there.
    negative = [r for r in quarantine.to_pylist() if r["rule"] == "loan_amount:greater_than"]
    assert negative
    assert all(r["loan_amount"] < 0 for r in negative)


def test_quarantined_rows_leave_no_trace_in_the_features(
    credit_risk: UseCase,
    dirty_loans: Path,
    settings: Settings,
    duckdb_engine: DuckDBEngine,
    tmp_path: Path,
) -> None:
    """Building from the valid rows alone gives the very same feature table."""
    _build(credit_risk, [dirty_loans], settings, duckdb_engine)
    store = OfflineStore(settings.offline_dir)
    from_dirty = store.dataset("credit_risk", FEATURES_TABLE).to_table().sort_by("loan_id")
    bad = set(store.dataset("credit_risk", QUARANTINE_TABLE).to_table()["loan_id"].to_pylist())
    raw = pq.read_table(dirty_loans)
    keep = [k is not None and k not in bad for k in raw["loan_id"].to_pylist()]
    clean = tmp_path / "valid.parquet"
    pq.write_table(raw.filter(pa.array(keep)), clean)
    report = _build(credit_risk, [clean], settings, duckdb_engine).report
    assert report.rows_quarantined == 0
    from_clean = store.dataset("credit_risk", FEATURES_TABLE).to_table().sort_by("loan_id")
    assert from_clean.num_rows == from_dirty.num_rows
    assert from_clean.equals(from_dirty)


def test_features_keep_missing_values_missing(
    credit_risk: UseCase, loans: Path, settings: Settings, duckdb_engine: DuckDBEngine
) -> None:
    result = _build(credit_risk, [loans], settings, duckdb_engine)
    table = OfflineStore(settings.offline_dir).dataset("credit_risk", FEATURES_TABLE).to_table()
    rows = table.to_pylist()
    firsts = [r for r in rows if r["nb_previous_loans"] == 0]
    assert firsts
    assert all(r["avg_amount_loans_previous"] is None for r in firsts)
    assert result.report.normalized["job_start_date"] > 0
    assert (
        sum(r["years_on_the_job"] is None for r in rows)
        >= result.report.normalized["job_start_date"]
    )
    assert table.column_names[:3] == ["loan_id", "id", "loan_date"]


def test_report_is_written_as_json_and_markdown(
    credit_risk: UseCase, dirty_loans: Path, settings: Settings, duckdb_engine: DuckDBEngine
) -> None:
    result = _build(credit_risk, [dirty_loans], settings, duckdb_engine)
    json_path, md_path = result.report_paths
    data = json.loads(json_path.read_text())
    assert data["rows_in"] == 20_000
    assert data["by_rule"] == result.report.by_rule
    assert abs(data["invalid_share"] - result.report.rows_quarantined / 20_000) < 1e-12
    assert "loan_amount:greater_than" in md_path.read_text()


def test_each_build_is_a_new_version_with_its_lineage(
    credit_risk: UseCase,
    loans: Path,
    dirty_loans: Path,
    settings: Settings,
    duckdb_engine: DuckDBEngine,
) -> None:
    first = _build(credit_risk, [loans], settings, duckdb_engine).report
    second = _build(credit_risk, [dirty_loans], settings, duckdb_engine).report
    store = OfflineStore(settings.offline_dir)
    assert (first.feature_version, second.feature_version) == (0, 1)
    old = store.lineage("credit_risk", FEATURES_TABLE, 0)
    assert old["raw_version"] == first.raw_version != second.raw_version
    assert old["code_version"] == credit_risk.fingerprint()
    assert old["quarantine_version"] == str(first.quarantine_version)
    assert store.dataset("credit_risk", FEATURES_TABLE, 0).count_rows() == first.rows_out
    assert store.dataset("credit_risk", FEATURES_TABLE).count_rows() == second.rows_out
    with pytest.raises(StoreError, match="has no version 7"):
        store.open("credit_risk", FEATURES_TABLE, 7)


def test_too_many_invalid_rows_fail_before_any_store_is_written(
    credit_risk: UseCase, dirty_loans: Path, settings: Settings, duckdb_engine: DuckDBEngine
) -> None:
    with pytest.raises(ContractError, match=r"of rows break the contract \(tolerated 0\.1%\)"):
        _build(credit_risk, [dirty_loans], settings, duckdb_engine, max_invalid_share=0.001)
    assert not (settings.offline_dir / "credit_risk").exists()
    report = json.loads((settings.reports_dir / "credit_risk" / "latest.json").read_text())
    assert report["passed"] is False
    assert gc.get_freeze_count() == 0  # the build thaws what it froze, even when it fails


def test_csv_and_parquet_sources_give_the_same_features(
    credit_risk: UseCase, settings: Settings, duckdb_engine: DuckDBEngine, tmp_path: Path
) -> None:
    parquet = generate(credit_risk, 3_000, tmp_path / "p", seed=5, dirty=0.01)
    csv = generate(credit_risk, 3_000, tmp_path / "c", seed=5, dirty=0.01, fmt="csv")
    a = _build(credit_risk, parquet, settings, duckdb_engine).report
    store = OfflineStore(settings.offline_dir)
    from_parquet = store.dataset("credit_risk", FEATURES_TABLE).to_table().sort_by("loan_id")
    b = _build(credit_risk, csv, settings, duckdb_engine).report
    from_csv = store.dataset("credit_risk", FEATURES_TABLE).to_table().sort_by("loan_id")
    assert (a.rows_quarantined, a.by_rule) == (b.rows_quarantined, b.by_rule)
    # Parquet footers prove some rules (checked then not row by row); CSV has no footer.
    assert "loan_id:not_null" in a.proven_by_statistics
    assert not b.proven_by_statistics
    # Amounts are summed in exact millionths, so even text round-trips give the same bits.
    assert from_csv.equals(from_parquet)


@pytest.mark.parametrize("broken_key", [None, "L-17"])
def test_rows_without_a_usable_key_are_quarantined_and_never_featured(
    credit_risk: UseCase,
    settings: Settings,
    duckdb_engine: DuckDBEngine,
    tmp_path: Path,
    broken_key: str | None,
) -> None:
    csv = generate(credit_risk, 2_000, tmp_path / "c", seed=9, fmt="csv")[0]
    raw = pd.read_csv(csv, dtype=str, keep_default_na=False)
    raw.loc[0, "loan_id"] = broken_key or ""  # missing, or text that is no number
    raw.to_csv(csv, index=False)
    report = _build(credit_risk, [csv], settings, duckdb_engine).report
    rule = "loan_id:not_null" if broken_key is None else "loan_id:type"
    assert report.by_rule[rule] == 1
    features = OfflineStore(settings.offline_dir).dataset("credit_risk", FEATURES_TABLE).to_table()
    assert features.column("loan_id").null_count == 0
    assert features.num_rows == report.rows_out == report.rows_in - report.rows_quarantined
