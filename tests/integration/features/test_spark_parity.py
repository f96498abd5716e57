"""The same definitions on Spark and DuckDB give identical tables, bit for bit."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pytest

from tabship.data.generate import generate
from tabship.features.build import build_features
from tabship.features.engine import DuckDBEngine, SparkEngine
from tabship.settings import Settings
from tabship.stores.offline import FEATURES_TABLE, QUARANTINE_TABLE, OfflineStore
from tabship.usecase import UseCase, load_usecase
from tests.e2e.test_any_table import APPLICATIONS, _applications, _settings

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def spark_engine(tmp_path_factory: pytest.TempPathFactory) -> SparkEngine:
    if shutil.which("java") is None:
        pytest.fail("Spark needs a Java runtime (make test installs one)")
    home = tmp_path_factory.mktemp("spark-home")
    return SparkEngine(Settings(home=home))


def _tables(store: OfflineStore) -> tuple[pa.Table, pa.Table]:
    features = store.dataset("credit_risk", FEATURES_TABLE).to_table().sort_by("loan_id")
    quarantine = store.dataset("credit_risk", QUARANTINE_TABLE).to_table()
    return features, quarantine.sort_by([("loan_id", "ascending"), ("rule", "ascending")])


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_spark_and_duckdb_build_identical_tables(
    fmt: str, credit_risk: UseCase, spark_engine: SparkEngine, tmp_path: Path
) -> None:
    files = generate(credit_risk, 4_000, tmp_path / "src", seed=21, dirty=0.02, fmt=fmt)
    results = {}
    for name in ("duckdb", "spark"):
        settings = Settings(home=tmp_path / name)
        engine = spark_engine if name == "spark" else DuckDBEngine(settings)
        store = OfflineStore(settings.offline_dir)
        report = build_features(
            credit_risk, files, engine, store, settings.reports_dir, today=None
        ).report
        results[name] = (report, *_tables(store))
    duck, spark = results["duckdb"], results["spark"]
    assert duck[0].by_rule == spark[0].by_rule
    assert duck[0].normalized == spark[0].normalized
    assert duck[0].rows_quarantined > 0
    assert spark[1].schema == duck[1].schema
    assert spark[1].equals(duck[1])
    assert (
        spark[2]
        .select(["loan_id", "rule", "rules"])
        .equals(duck[2].select(["loan_id", "rule", "rules"]))
    )


def test_a_table_without_an_id_numbers_and_types_rows_alike_on_both(
    spark_engine: SparkEngine, tmp_path: Path
) -> None:
    """Row numbers (file order), text columns and Yes/No flags: the same on Spark."""
    base = _settings(tmp_path, "applications", APPLICATIONS)
    usecase = load_usecase("applications", base.usecases)
    source = _applications(tmp_path / "applications.csv", rows=500)
    tables, reports = {}, {}
    for name in ("duckdb", "spark"):
        settings = Settings(home=tmp_path / name)
        engine = spark_engine if name == "spark" else DuckDBEngine(settings)
        store = OfflineStore(settings.offline_dir)
        reports[name] = build_features(
            usecase, [source], engine, store, settings.reports_dir
        ).report
        tables[name] = store.dataset("applications", FEATURES_TABLE).to_table().sort_by("row")
    assert tables["spark"].equals(tables["duckdb"])
    assert reports["spark"].missing == reports["duckdb"].missing
    first = tables["duckdb"].slice(0, 1).to_pylist()[0]
    assert first["row"] == 1
    assert first["status"] == "< 0 DM"
    assert isinstance(first["foreign"], bool)
