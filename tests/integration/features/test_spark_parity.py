"""The same definitions on Spark and DuckDB give identical tables, bit for bit."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pyarrow as pa
import pytest

from tabship.data.generate import generate
from tabship.features.build import build_features
from tabship.features.engine import DuckDBEngine, SparkEngine
from tabship.features.incremental import stored_base
from tabship.settings import Settings
from tabship.stores.offline import FEATURES_TABLE, QUARANTINE_TABLE, OfflineStore
from tabship.usecase import UseCase, load_usecase
from tests.e2e.test_any_table import APPLICATIONS, _applications, _settings

pytestmark = [pytest.mark.spark, pytest.mark.slow]
CUTOFF = dt.date(2020, 9, 1)


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


def test_an_incremental_build_on_spark_equals_a_full_build_on_duckdb(
    credit_risk: UseCase, spark_engine: SparkEngine, tmp_path: Path
) -> None:
    """New rows against the stored history, on Spark: the same table as DuckDB's full build."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    (source,) = generate(credit_risk, 4_000, tmp_path / "src", seed=23, dirty=0.02)
    table = pq.read_table(source)
    counts = pc.value_counts(table.column("loan_id"))
    repeated = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1))
    later = pc.and_kleene(  # every copy of a repeated loan id stays with the history
        pc.greater_equal(table.column("loan_date"), pa.scalar(CUTOFF)),
        pc.invert(pc.is_in(table.column("loan_id"), repeated)),
    )
    later = pc.fill_null(later, False)
    old, new = tmp_path / "old.parquet", tmp_path / "new.parquet"
    pq.write_table(table.filter(pc.invert(later)), old)
    pq.write_table(table.filter(later), new)
    spark_home, duck_home = Settings(home=tmp_path / "spark"), Settings(home=tmp_path / "duck")
    spark_store = OfflineStore(spark_home.offline_dir)
    build_features(credit_risk, [old], spark_engine, spark_store, spark_home.reports_dir)
    base = stored_base(credit_risk, spark_store)
    build_features(credit_risk, [new], spark_engine, spark_store, spark_home.reports_dir, base=base)
    duck_store = OfflineStore(duck_home.offline_dir)
    build_features(
        credit_risk, [old, new], DuckDBEngine(duck_home), duck_store, duck_home.reports_dir
    )
    spark, duck = _tables(spark_store), _tables(duck_store)
    assert spark[0].equals(duck[0])
    assert spark[1].num_rows == duck[1].num_rows > 0
