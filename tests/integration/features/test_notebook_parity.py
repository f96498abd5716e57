"""Row by row against the notebook (both versions): agreement, or a documented fix.

Each documented fix (docs/features.md) is a named predicate; a row may differ from the
notebook only where one of them explains the difference exactly.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from bench.notebook import notebook_features
from tabship.features.build import build_features
from tabship.features.engine import DuckDBEngine
from tabship.settings import Settings
from tabship.stores.offline import FEATURES_TABLE, OfflineStore
from tabship.usecase import UseCase

TODAY = dt.date(2021, 10, 15)


def _calendar_years(start: pd.Series, at: pd.Series) -> pd.Series:
    years = at.dt.year - start.dt.year
    before = (at.dt.month * 100 + at.dt.day) < (start.dt.month * 100 + start.dt.day)
    return (years - before.astype(int)).where(start <= at)


@pytest.fixture(scope="module")
def compared(
    credit_risk: UseCase, loans: Path, tmp_path_factory: pytest.TempPathFactory
) -> pd.DataFrame:
    settings = Settings(home=tmp_path_factory.mktemp("parity"))
    engine = DuckDBEngine(settings)
    store = OfflineStore(settings.offline_dir)
    report = build_features(credit_risk, [loans], engine, store, settings.reports_dir).report
    assert report.rows_quarantined == 0
    ours = store.dataset("credit_risk", FEATURES_TABLE).to_table().to_pandas()
    raw = pq.read_table(loans).to_pandas()
    for column in ("birthday", "job_start_date", "loan_date"):  # the notebook read ISO text
        raw[column] = raw[column].astype(str)
    v1 = notebook_features(raw, TODAY, version=1)
    v2 = notebook_features(raw, TODAY, version=2)[["loan_id", "avg_amount_loans_previous"]]
    merged = ours.merge(v1, on="loan_id", suffixes=("", "_v1")).merge(
        v2.rename(columns={"avg_amount_loans_previous": "avg_amount_loans_previous_v2"}),
        on="loan_id",
    )
    assert len(merged) == len(ours) == len(raw)
    loan_date = pd.to_datetime(merged["loan_date"])
    merged["_loan_date"] = loan_date
    merged["_birthday"] = pd.to_datetime(
        raw.set_index("loan_id").loc[merged["loan_id"], "birthday"].to_numpy()
    )
    job = raw.set_index("loan_id").loc[merged["loan_id"], "job_start_date"].to_numpy()
    merged["_sentinel"] = job == "3021-09-18"
    merged["_job"] = pd.to_datetime(np.where(merged["_sentinel"], None, job))
    per_day = merged.groupby(["id", "_loan_date"])["loan_id"].transform("size")
    merged["_same_day"] = per_day > 1
    merged["_earlier"] = merged.groupby("id")["_loan_date"].rank(method="min") - 1
    return merged


def _share(mask: pd.Series) -> str:
    return f"{int(mask.sum()):,} rows ({mask.mean():.2%})"


def test_flag_own_car_agrees_on_every_row(compared: pd.DataFrame) -> None:
    assert (compared["flag_own_car"] == compared["flag_own_car_v1"]).all()


def test_nb_previous_loans_differs_only_on_same_day_loans(compared: pd.DataFrame) -> None:
    differs = compared["nb_previous_loans"] != compared["nb_previous_loans_v1"]
    assert (compared["nb_previous_loans"] == compared["_earlier"]).all()
    # Fix "same-day loans": the notebook counts same-day loans that happen to sort first.
    assert compared.loc[differs, "_same_day"].all()
    assert (
        compared.loc[differs, "nb_previous_loans"] < compared.loc[differs, "nb_previous_loans_v1"]
    ).all()
    assert differs.any(), "the sample has no same-day loans: the test would prove nothing"
    print("nb_previous_loans differs (same-day loans):", _share(differs))


def test_average_agrees_with_v1_except_where_missing_is_kept_missing(
    compared: pd.DataFrame,
) -> None:
    ours, theirs = compared["avg_amount_loans_previous"], compared["avg_amount_loans_previous_v1"]
    missing = ours.isna()
    # Fix "missing stays missing": no earlier loan -> NULL here, 0 in the notebook.
    assert (missing == (compared["_earlier"] == 0)).all()
    assert (theirs[missing] == 0).all()
    # Elsewhere equal up to the millionth-of-a-unit rounding of amounts.
    np.testing.assert_allclose(ours[~missing], theirs[~missing], rtol=0, atol=1e-6)
    print("avg vs v1: missing kept missing:", _share(missing))


def test_average_differs_from_v2_only_on_same_day_loans(compared: pd.DataFrame) -> None:
    ours = compared["avg_amount_loans_previous"].fillna(0)
    differs = ~np.isclose(ours, compared["avg_amount_loans_previous_v2"], rtol=0, atol=1e-6)
    assert compared.loc[differs, "_same_day"].all()
    assert differs.any()
    print("avg vs v2 differs (same-day loans):", _share(differs))


def test_age_is_the_notebooks_formula_moved_to_the_loan_date(compared: pd.DataFrame) -> None:
    ours = compared["age"]
    assert (ours == _calendar_years(compared["_birthday"], compared["_loan_date"])).all()
    at_today = (pd.Timestamp(TODAY) - compared["_birthday"]).dt.days // 365
    assert (compared["age_v1"] == at_today).all()
    # Fix "as of the loan": the notebook's days // 365 at the loan date is our age, but for
    # the few days a year where 365-day years drift past the real birthday.
    at_loan = (compared["_loan_date"] - compared["_birthday"]).dt.days // 365
    drift = at_loan != ours
    assert ((at_loan - ours)[drift] == 1).all()
    assert drift.mean() < 0.05
    print("age differs from notebook (run date):", _share(ours != compared["age_v1"]))
    print("age: 365-day-year drift at the loan date:", _share(drift))


def test_years_on_the_job_differs_only_by_documented_fixes(compared: pd.DataFrame) -> None:
    ours, theirs = compared["years_on_the_job"], compared["years_on_the_job_v1"]
    sentinel, later = compared["_sentinel"], compared["_job"] > compared["_loan_date"]
    # Fix "unknown stays unknown": the pensioner sentinel is NULL here, 0 in the notebook.
    assert ours[sentinel].isna().all()
    assert (theirs[sentinel] == 0).all()
    # Fix "not yet started": a job starting after the loan has no tenure at the loan.
    assert ours[later].isna().all()
    known = ~sentinel & ~later
    assert (ours[known] == _calendar_years(compared["_job"], compared["_loan_date"])[known]).all()
    assert (theirs[known] == (pd.Timestamp(TODAY) - compared["_job"][known]).dt.days // 365).all()
    assert sentinel.any()
    assert later.any()
    print("years_on_the_job sentinel -> missing:", _share(sentinel))
    print("years_on_the_job job after loan -> missing:", _share(later))
