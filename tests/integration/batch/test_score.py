"""Batch scoring: a whole file scored through the feature view gives the API's numbers,
each run is a new version of the scores table, and a refused run changes nothing."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable
from fastapi.testclient import TestClient

from tabship.batch.score import score_files
from tabship.errors import StoreError
from tabship.features.as_of import AsOf
from tabship.features.build import build_features
from tabship.features.engine import DuckDBEngine
from tabship.pipeline import Pipeline
from tabship.settings import Settings
from tabship.stores.offline import FEATURES_TABLE, OfflineStore
from tabship.usecase import load_usecase
from tests.cli_runner import run_cli
from tests.integration.conftest import FEATURES, NAME, PREDICT, point_cli_at


def _features(settings: Settings) -> pd.DataFrame:
    """The home's own feature table (built from the same file), by loan."""
    table = OfflineStore(settings.offline_dir).open(NAME, FEATURES_TABLE).to_pandas()
    return table.set_index("loan_id")


def test_batch_scores_equal_the_apis_for_the_same_rows(
    home: Settings, loans: Path, tmp_path: Path, client_for: Callable[..., TestClient]
) -> None:
    Pipeline(home).publish()
    usecase = load_usecase(NAME, home.usecases)
    out = tmp_path / "scores"
    result = score_files(usecase, home, [loans], out, "champion")
    scores = DeltaTable(str(out)).to_pandas()
    built = _features(home)
    assert result.rows == len(scores) == len(built)
    assert result.model_version == "1"
    assert set(scores["model_version"]) == {"1"}
    assert set(scores["feature_code_version"]) == {usecase.fingerprint()}
    assert scores["input_hash"].nunique() == 1
    quality = json.loads((tmp_path / "scores.quality.json").read_text())
    assert quality["use_case"] == NAME  # the contract's report of these very rows
    assert quality["source_files"] == [str(loans)]
    client = client_for(home, sync="off")
    sample = scores.sample(40, random_state=0)
    for row in sample.itertuples():
        features: dict[str, Any] = built.loc[row.loan_id, FEATURES].to_dict()
        payload = {k: (None if pd.isna(v) else v) for k, v in features.items()}
        answer = client.post(PREDICT, json=payload).json()
        assert row.prediction == pytest.approx(answer["prediction"], abs=1e-6)
        assert row.decision == answer["decision"]


def test_each_run_is_a_new_version_and_a_refused_run_leaves_the_last(
    home: Settings, loans: Path, tmp_path: Path
) -> None:
    Pipeline(home).publish()
    usecase = load_usecase(NAME, home.usecases)
    out = tmp_path / "scores"
    first = score_files(usecase, home, [loans], out, "champion")
    second = score_files(usecase, home, [loans], out, "2")
    assert (first.table_version, second.table_version) == (0, 1)
    assert set(DeltaTable(str(out)).to_pandas()["model_version"]) == {"2"}
    assert set(DeltaTable(str(out), version=0).to_pandas()["model_version"]) == {"1"}
    with pytest.raises(StoreError, match="no published version or alias 'nine'"):
        score_files(usecase, home, [loans], out, "nine")
    assert DeltaTable(str(out)).version() == 1


def test_the_score_command_reports_and_refuses_clearly(
    home: Settings,
    loans: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    point_cli_at(home, monkeypatch)
    out = tmp_path / "scores"
    args = ["score", NAME, "--data", str(loans), "--out", str(out)]
    done = run_cli([*args, "--alias", "challenger"], capsys, monkeypatch)
    assert done.code == 0, done.err
    assert f"scored by {NAME} version 2" in done.out
    both = run_cli([*args, "--version", "1", "--alias", "champion"], capsys, monkeypatch)
    assert both.code == 1
    assert "give --version or --alias, not both" in both.err
    missing = run_cli([*args, "--version", "7"], capsys, monkeypatch)
    assert missing.code == 1
    assert "no published version or alias '7'" in missing.err
    bad = run_cli([*args, "--as-of", "tomorrow"], capsys, monkeypatch)
    assert bad.code == 1
    assert "--as-of must be a date (YYYY-MM-DD), not 'tomorrow'" in bad.err


@pytest.mark.spark
def test_spark_scores_inside_its_partitions_what_duckdb_and_the_api_score(
    home: Settings, loans: Path, tmp_path: Path, client_for: Callable[..., TestClient]
) -> None:
    Pipeline(home).publish()
    usecase = load_usecase(NAME, home.usecases)
    local = score_files(usecase, home, [loans], tmp_path / "duckdb", "champion")
    spark = score_files(usecase, home, [loans], tmp_path / "spark", "champion", engine="spark")
    assert (spark.rows, spark.quarantined) == (local.rows, local.quarantined)
    by_duckdb = DeltaTable(str(local.out)).to_pandas().set_index("loan_id").sort_index()
    by_spark = DeltaTable(str(spark.out)).to_pandas().set_index("loan_id").sort_index()
    assert list(by_spark.index) == list(by_duckdb.index)
    assert (by_spark["prediction"] - by_duckdb["prediction"]).abs().max() <= 1e-6
    assert (by_spark["decision"] == by_duckdb["decision"]).all()
    assert set(by_spark["model_version"]) == {"1"}
    commit = DeltaTable(str(spark.out)).history(1)[0]
    assert commit["model_version"] == "1"
    assert commit["feature_code_version"] == usecase.fingerprint()
    built = _features(home)
    client = client_for(home, sync="off")
    for loan_id, row in by_spark.sample(10, random_state=1).iterrows():
        features = built.loc[loan_id, FEATURES].to_dict()
        payload = {k: (None if pd.isna(v) else v) for k, v in features.items()}
        answer = client.post(PREDICT, json=payload).json()
        assert row["prediction"] == pytest.approx(answer["prediction"], abs=1e-6)


def _years(start: dt.date | None, at: dt.date) -> int | None:
    if start is None or start > at:
        return None
    return at.year - start.year - ((at.month, at.day) < (start.month, start.day))


def _expected_as_of(loans: pd.DataFrame, day: dt.date) -> dict[str, Any]:
    """One user's five features as of ``day``, from their loans (all before it)."""
    latest = loans.sort_values(["loan_date", "loan_id"]).iloc[-1]
    job = latest["job_start_date"]
    return {
        "nb_previous_loans": len(loans),
        "avg_amount_loans_previous": float(loans["loan_amount"].mean()),
        "age": _years(latest["birthday"], day),
        "years_on_the_job": _years(None if job == dt.date(3021, 9, 18) else job, day),
        "flag_own_car": int(latest["flag_own_car"] == "Y"),
    }


def test_as_of_a_date_every_user_is_scored_once_on_all_their_earlier_loans(
    home: Settings, loans: Path, tmp_path: Path
) -> None:
    Pipeline(home).publish()
    usecase = load_usecase(NAME, home.usecases)
    valid = set(_features(home).index)
    raw = pq.read_table(loans).to_pandas()
    raw = raw[raw["loan_id"].isin(valid)]
    day = dt.date(2021, 1, 1)  # after every loan of the file
    result = score_files(usecase, home, [loans], tmp_path / "book", "champion", as_of=day)
    book = DeltaTable(str(result.out)).to_pandas().set_index("id")
    assert result.rows == len(book) == raw["id"].nunique()
    assert set(book["loan_date"]) == {day}
    assert set(book["features_as_of"]) == {"2021-01-01"}
    for user in book.sample(8, random_state=2).index:
        expected = _expected_as_of(raw[raw["id"] == user], day)
        score = Pipeline(home).score(NAME, [expected], "1")[0]
        assert book.loc[user, "prediction"] == pytest.approx(score, abs=1e-6), expected
    # The features themselves, as a build computes them for that date.
    settings = Settings(home=tmp_path / "as-of", usecases=home.usecases)
    engine = DuckDBEngine(settings)
    store = OfflineStore(settings.offline_dir)
    build_features(usecase, [loans], engine, store, settings.reports_dir, as_of=AsOf(usecase, day))
    engine.close()
    table = store.dataset(NAME, FEATURES_TABLE).to_table().to_pandas().set_index("id")
    for user in table.sample(20, random_state=3).index:
        expected = _expected_as_of(raw[raw["id"] == user], day)
        got = {k: table.loc[user, k] for k in expected}
        got = {k: (None if pd.isna(v) else v) for k, v in got.items()}
        assert got == pytest.approx(expected)
