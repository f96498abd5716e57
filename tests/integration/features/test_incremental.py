"""Incremental builds: new rows' features against the stored history, appended as one
version, and the online store updated for the entities that changed; the same tables as a
full rebuild, overlaps refused by name, a killed build leaving the last version."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from tabship.errors import StoreError
from tabship.features.incremental import IncrementalError, OverlapError
from tabship.pipeline import Pipeline
from tabship.settings import Settings
from tabship.stores.offline import FEATURES_TABLE, QUARANTINE_TABLE, OfflineStore
from tabship.stores.online import open_online_store
from tabship.usecase import UseCase, load_usecase
from tests.cli_runner import run_cli
from tests.integration.conftest import point_cli_at

CUTOFF = dt.date(2020, 9, 1)


@pytest.fixture(scope="module")
def parts(dirty_loans: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The dirty loans split by day: everything before CUTOFF (and every copy of a repeated
    loan id, and rows without a date) stored first, the later days arriving as new rows."""
    table = pq.read_table(dirty_loans)
    ids = table.column("loan_id")
    counts = pc.value_counts(ids)
    repeated = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1))
    later = pc.and_kleene(
        pc.greater_equal(table.column("loan_date"), pa.scalar(CUTOFF)),
        pc.invert(pc.is_in(ids, repeated)),
    )
    later = pc.fill_null(later, False)
    folder = tmp_path_factory.mktemp("parts")
    old, new = folder / "old" / "loans.parquet", folder / "new" / "loans.parquet"
    for path, rows in ((old, table.filter(pc.invert(later))), (new, table.filter(later))):
        path.parent.mkdir()
        pq.write_table(rows, path)
    return old, new


def _home(tmp_path: Path, name: str) -> Settings:
    return Settings(home=tmp_path / name, usecases=Settings().usecases, duckdb_memory_limit="2GB")


def _table(settings: Settings, table: str) -> list[dict[str, object]]:
    rows = OfflineStore(settings.offline_dir).dataset("credit_risk", table).to_table()
    key = "loan_id" if table == FEATURES_TABLE else "rule"
    return sorted(rows.to_pylist(), key=lambda r: (str(r[key]), json.dumps(r, default=str)))


def _online(settings: Settings, name: str = "credit_risk") -> dict[str, object]:
    store = open_online_store(settings)
    try:
        keys = store.keys(name, 1_000_000)
        return {k: store.get(name, k) for k in keys}
    finally:
        store.close()


def test_incremental_build_and_materialisation_equal_a_full_rebuild(
    parts: tuple[Path, Path], dirty_loans: Path, settings: Settings, tmp_path: Path
) -> None:
    old, new = parts
    pipeline = Pipeline(settings)
    first = pipeline.build("credit_risk", [old])
    pipeline.materialize("credit_risk")
    added = pipeline.build("credit_risk", [new], incremental=True)
    assert added.report.rows_in == pq.read_metadata(new).num_rows
    done = pipeline.materialize("credit_risk", incremental=True)
    assert done.version == f"v{first.report.feature_version + 1}"

    full = _home(tmp_path, "full")
    Pipeline(full).build("credit_risk", [old, new])
    Pipeline(full).materialize("credit_risk")
    assert _table(settings, FEATURES_TABLE) == _table(full, FEATURES_TABLE)
    assert _table(settings, QUARANTINE_TABLE) == _table(full, QUARANTINE_TABLE)
    assert _online(settings) == _online(full)
    assert done.rows == len(_online(full))

    history = OfflineStore(settings.offline_dir).history("credit_risk", FEATURES_TABLE)
    assert history[0]["incremental"] == "true"
    assert history[0]["base_version"] == str(first.report.feature_version)
    assert history[0]["rows"] == str(first.report.rows_out + added.report.rows_out)
    assert json.loads(history[0]["files"]) == [str(old), str(new)]
    assert "incremental" not in history[1]


def _write(rows: list[dict[str, object]], like: Path, folder: Path) -> Path:
    folder.mkdir()
    path = folder / "loans.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=pq.read_schema(like)), path)
    return path


def test_overlapping_rows_are_refused_by_name_and_change_nothing(
    parts: tuple[Path, Path], settings: Settings, tmp_path: Path, credit_risk: UseCase
) -> None:
    old, _ = parts
    pipeline = Pipeline(settings)
    pipeline.build("credit_risk", [old])
    stored = pq.read_table(old).to_pylist()
    valid = _table(settings, FEATURES_TABLE)
    latest = max(valid, key=lambda r: (r["loan_date"], r["loan_id"]))
    repeated = dict(next(r for r in stored if r["loan_id"] == valid[0]["loan_id"]))
    early = {**repeated, "loan_id": 99_999_999, "id": latest["id"]}
    early["loan_date"] = latest["loan_date"] - dt.timedelta(days=1)
    overlap = _write([repeated, early], old, tmp_path / "overlap")
    with pytest.raises(OverlapError) as refused:
        pipeline.build("credit_risk", [overlap], incremental=True)
    message = str(refused.value)
    assert f"loan_id {repeated['loan_id']} already stored" in message
    assert f"loan_id 99999999 (id {latest['id']}, {early['loan_date']})" in message
    assert OfflineStore(settings.offline_dir).open("credit_risk", FEATURES_TABLE).version() == 0

    # Declared so, the same file rebuilds the table in full from every file.
    feature_view = credit_risk.feature_view.model_copy(update={"on_overlap": "rebuild"})
    rebuilding = credit_risk.model_copy(update={"feature_view": feature_view})
    rebuilt = pipeline.build(rebuilding, [overlap], incremental=True)
    assert rebuilt.report.rows_in == pq.read_metadata(old).num_rows + 2
    assert rebuilt.report.by_rule.get("loan_id:unique") is not None


def test_a_killed_incremental_build_leaves_the_previous_version(
    parts: tuple[Path, Path],
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    old, new = parts
    pipeline = Pipeline(settings)
    pipeline.build("credit_risk", [old])
    before = _table(settings, FEATURES_TABLE)
    folder = OfflineStore(settings.offline_dir).path("credit_risk", FEATURES_TABLE)
    staged = sorted(folder.glob("build-*"))
    commit = OfflineStore.commit_files

    def killed_at_the_last_commit(self: OfflineStore, use_case: str, table: str, *a, **k):  # type: ignore[no-untyped-def]
        if table == FEATURES_TABLE:
            raise KeyboardInterrupt  # the process dies between the companions and features
        return commit(self, use_case, table, *a, **k)

    monkeypatch.setattr(OfflineStore, "commit_files", killed_at_the_last_commit)
    with pytest.raises(KeyboardInterrupt):
        pipeline.build("credit_risk", [new], incremental=True)
    monkeypatch.undo()
    offline = OfflineStore(settings.offline_dir)
    assert offline.open("credit_risk", FEATURES_TABLE).version() == 0
    assert _table(settings, FEATURES_TABLE) == before
    assert sorted(folder.glob("build-*")) == staged  # the new files are gone

    # The companions' orphan versions are set aside: the next attempt gives the full result.
    pipeline.build("credit_risk", [new], incremental=True)
    full = _home(tmp_path, "full")
    Pipeline(full).build("credit_risk", [old, new])
    assert _table(settings, FEATURES_TABLE) == _table(full, FEATURES_TABLE)
    assert _table(settings, QUARANTINE_TABLE) == _table(full, QUARANTINE_TABLE)


def test_incremental_materialisation_needs_the_parent_snapshot_live(
    parts: tuple[Path, Path],
    settings: Settings,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    old, _ = parts
    point_cli_at(settings, monkeypatch)
    pipeline = Pipeline(settings)
    pipeline.build("credit_risk", [old])
    with pytest.raises(StoreError, match=r"no earlier snapshot .* is live \(nothing\)"):
        pipeline.materialize("credit_risk", incremental=True)
    pipeline.build("credit_risk", [old])  # a full build: v1 is not rows appended to v0
    pipeline.materialize("credit_risk", version=0)
    with pytest.raises(StoreError, match="version 1 is a full build"):
        pipeline.materialize("credit_risk", incremental=True)
    outcome = run_cli(["features", "build", "credit_risk", "--incremental"], capsys, monkeypatch)
    assert outcome.code != 0
    assert "needs the new rows' files (--data)" in outcome.err


def _sales(tmp_path: Path) -> tuple[Path, Path]:
    """Generated house sales split in two folders, each with the zipcode demographics."""
    house_prices = load_usecase("house_prices", Settings().usecases)
    (sales, *_) = Pipeline(_home(tmp_path, "gen")).generate(house_prices, 600, tmp_path / "gen")
    rows = pacsv.read_csv(sales, convert_options=pacsv.ConvertOptions(strings_can_be_null=False))
    parts = []
    for name, piece in (("old", rows.slice(0, 400)), ("new", rows.slice(400))):
        folder = tmp_path / name
        folder.mkdir()
        shutil.copy(sales.parent / "zipcode_demographics.csv", folder)
        pacsv.write_csv(piece, folder / sales.name)
        parts.append(folder / sales.name)
    return parts[0], parts[1]


def test_timeless_rows_with_a_reference_join_add_up_to_a_full_build(
    settings: Settings, tmp_path: Path
) -> None:
    old, new = _sales(tmp_path)
    pipeline = Pipeline(settings)
    pipeline.build("house_prices", [old])
    pipeline.materialize("house_prices")
    pipeline.build("house_prices", [new], incremental=True)
    pipeline.materialize("house_prices", incremental=True)
    full = _home(tmp_path, "full")
    Pipeline(full).build("house_prices", [old, new])
    Pipeline(full).materialize("house_prices")
    mine = OfflineStore(settings.offline_dir).dataset("house_prices", FEATURES_TABLE).to_table()
    theirs = OfflineStore(full.offline_dir).dataset("house_prices", FEATURES_TABLE).to_table()
    assert mine.sort_by("sale").equals(theirs.sort_by("sale"))
    assert _online(settings, "house_prices") == _online(full, "house_prices")

    # Stored rows were joined with the demographics as they were: a changed file refuses.
    demographics = new.parent / "zipcode_demographics.csv"
    demographics.write_text(demographics.read_text().replace(",1", ",2", 1))
    with pytest.raises(IncrementalError, match=r"reference table\(s\) demographics changed"):
        pipeline.build("house_prices", [new], incremental=True)
