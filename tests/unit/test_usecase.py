"""Declarations: clear errors for bad ones; a new use case needs no code in tabship."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tabship.data.report import QualityReport
from tabship.errors import UseCaseError
from tabship.features.build import build_features
from tabship.features.engine import DuckDBEngine
from tabship.settings import Settings
from tabship.stores.offline import FEATURES_TABLE, OfflineStore
from tabship.usecase import load_usecase

DECLARATION = """
name: visits
entity: shop
event_time: day
row_key: visit_id
source: {pattern: "*.parquet"}
feature_view:
  definitions: features.py:features
  features: [visits_before, spend_before]
contract:
  columns:
    visit_id: {type: int64, nullable: false, unique: true}
    shop: {type: string, nullable: false}
    day: {type: date, nullable: false}
    spend: {type: float64, min: 0}
"""
FEATURES = """
from tabship.features.pit import history

def features(t):
    h = history(t, entity="shop", event_time="day")
    return t.select("visit_id", "shop", "day", visits_before=h.count(), spend_before=h.sum(t.spend))
"""


def test_unknown_use_case_names_where_it_looked_and_how_to_point_elsewhere(
    tmp_path: Path,
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "usecase.yaml").write_text("name: a\n")
    with pytest.raises(UseCaseError) as raised:
        load_usecase("b", tmp_path)
    message = str(raised.value)
    assert f"no b/usecase.yaml in {tmp_path.resolve()}" in message
    assert "known there: a" in message
    assert "TABSHIP_USECASES" in message


def test_invalid_declaration_names_the_field(tmp_path: Path) -> None:
    (tmp_path / "v").mkdir()
    (tmp_path / "v" / "usecase.yaml").write_text(
        DECLARATION.replace("name: visits", "name: v").replace("row_key: visit_id\n", "")
    )
    with pytest.raises(UseCaseError, match=r"row_key: Field required .*source\.row_number"):
        load_usecase("v", tmp_path)


def test_monitoring_bands_must_be_in_order(tmp_path: Path) -> None:
    (tmp_path / "v").mkdir()
    bands = "monitoring: {psi: {watch: 0.3, act: 0.2}}\n"
    (tmp_path / "v" / "usecase.yaml").write_text(
        DECLARATION.replace("name: visits", "name: v") + bands
    )
    with pytest.raises(UseCaseError, match=r"psi.act \(0.2\) is below psi.watch \(0.3\)"):
        load_usecase("v", tmp_path)


def test_declaration_must_refer_to_declared_columns(tmp_path: Path) -> None:
    (tmp_path / "visits").mkdir()
    (tmp_path / "visits" / "usecase.yaml").write_text(
        DECLARATION.replace("entity: shop", "entity: store")
    )
    with pytest.raises(UseCaseError, match="does not declare column\\(s\\): store"):
        load_usecase("visits", tmp_path)


@pytest.mark.parametrize(
    ("training", "named"),
    [
        ("split: {column: store}", "training.split.column names 'store'"),
        (
            "split: {column: shop}\n  task: regression\n  errors_by: region",
            "training.errors_by names 'region'",
        ),
        (
            "split: {column: shop}\nexplain:\n  groups:\n    g: {label: G, inputs: [shop, till]}",
            "explain.groups.g names 'till'",
        ),
    ],
)
def test_training_columns_must_be_source_columns_or_features(
    tmp_path: Path, training: str, named: str
) -> None:
    (tmp_path / "visits").mkdir()
    declaration = DECLARATION + "training:\n  " + training + "\n"
    (tmp_path / "visits" / "usecase.yaml").write_text(declaration)
    with pytest.raises(UseCaseError) as raised:
        load_usecase("visits", tmp_path)
    assert named in str(raised.value)
    assert "neither a source column nor a feature" in str(raised.value)
    assert "\n" not in str(raised.value)


WHOLE_TABLE_FEATURES = """
import ibis
from tabship.features.pit import history

def features(t):
    h = history(t, entity="shop", event_time="day")
    everyone = ibis.window()
    return t.select("visit_id", "shop", "day", visits_before=h.count(),
                    spend_before=t.spend.sum().over(everyone))
"""


def _visits(
    tmp_path: Path, settings: Settings, features: str
) -> tuple[QualityReport, dict[int, dict[str, object]]]:
    folder = tmp_path / "cases" / "visits"
    folder.mkdir(parents=True)
    (folder / "usecase.yaml").write_text(DECLARATION)
    (folder / "features.py").write_text(features)
    usecase = load_usecase("visits", tmp_path / "cases")
    data = tmp_path / "visits.parquet"
    pq.write_table(
        pa.table(
            {
                "visit_id": [1, 2, 3, 4],
                "shop": ["a", "a", "a", "b"],
                "day": pa.array([0, 0, 3, 1], pa.int32()).cast(pa.date32()),
                "spend": [10.0, 5.0, -1.0, 7.0],
            }
        ),
        data,
    )
    engine = DuckDBEngine(settings)
    store = OfflineStore(settings.offline_dir)
    report = build_features(
        usecase, [data], engine, store, settings.reports_dir, max_invalid_share=0.5
    ).report
    table = store.dataset("visits", FEATURES_TABLE).to_table()
    return report, {r["visit_id"]: r for r in table.to_pylist()}


def test_a_new_use_case_is_only_a_declaration(tmp_path: Path, settings: Settings) -> None:
    report, rows = _visits(tmp_path, settings, FEATURES)
    assert report.by_rule == {"spend:min": 1}
    assert rows[1]["visits_before"] == rows[2]["visits_before"] == 0
    assert rows[4]["visits_before"] == 0
    assert 3 not in rows


def test_definitions_that_look_across_entities_never_see_a_quarantined_row(
    tmp_path: Path, settings: Settings
) -> None:
    report, rows = _visits(tmp_path, settings, WHOLE_TABLE_FEATURES)
    assert report.by_rule == {"spend:min": 1}
    assert sorted(rows) == [1, 2, 4]
    # The whole-table sum is of the valid spends only: 10 + 5 + 7, not the -1 as well.
    assert {r["spend_before"] for r in rows.values()} == {22.0}
