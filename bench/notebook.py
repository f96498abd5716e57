"""A faithful port of the lender's feature notebook (Kueski's challenge), for parity and benchmarks.

Both versions: v1 computes the average of earlier loans with a Python double loop (the
step that "takes forever"), v2 with a shifted expanding mean. "Today" is a parameter so
results are reproducible. Under pandas >= 3, dates past pandas' old nanosecond range no
longer turn into NaT by themselves; the port does it explicitly, as pandas 1.x/2.x did.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

OUTPUT = [
    "id",
    "age",
    "years_on_the_job",
    "nb_previous_loans",
    "avg_amount_loans_previous",
    "flag_own_car",
    "status",
]
_PANDAS_MAX = pd.Timestamp("2262-04-11")


def _to_datetime_v1(values: pd.Series) -> pd.Series:
    """pd.to_datetime(errors='coerce') as pandas 1.x/2.x did it: out-of-range -> NaT."""
    parsed = pd.to_datetime(values, errors="coerce")
    return parsed.where(parsed < _PANDAS_MAX)


def avg_previous_loop(df: pd.DataFrame, users: int | None = None) -> pd.Series:
    """Notebook v1 step 4: for each loan, mean amount of the user's strictly earlier loans.

    As in the notebook, each user's rows are found by filtering the whole frame, so the
    loop is quadratic in the number of rows (users x rows); within a user, each loan
    looks at every other loan of that user. ``users`` stops after that many users (the
    benchmark times a few on the whole frame).
    """
    out = pd.Series(np.nan, index=df.index)
    ids = df["id"].to_numpy()
    for user_id in pd.unique(ids)[:users]:
        user = df[ids == user_id]
        dates = user["loan_date"].to_numpy()
        amounts = user["loan_amount"].to_numpy()
        for position, index in enumerate(user.index):
            earlier = amounts[dates < dates[position]]
            if len(earlier):
                out[index] = earlier.mean()
    return out


def prepared(raw: pd.DataFrame) -> pd.DataFrame:
    """The notebook's first step: loans sorted by user and date, dates parsed."""
    df = raw.sort_values(by=["id", "loan_date"], kind="quicksort").reset_index(drop=True)
    df["loan_date"] = pd.to_datetime(df["loan_date"])
    return df


def notebook_features(
    raw: pd.DataFrame, today: dt.date, version: int = 1, fill: bool = True
) -> pd.DataFrame:
    """The notebook's feature table (with ``loan_id`` kept so rows can be matched)."""
    return features_of_prepared(prepared(raw), today, version, fill)


def features_of_prepared(
    df: pd.DataFrame,
    today: dt.date,
    version: int = 1,
    fill: bool = True,
    loop_users: int | None = None,
) -> pd.DataFrame:
    """The notebook's steps after ``prepared`` (adding their columns to ``df``);
    ``loop_users`` limits v1's loop to that many users (for timing the rest)."""
    grouped = df.groupby("id")
    df["nb_previous_loans"] = grouped["loan_date"].rank(method="first") - 1
    if version == 1:
        df["avg_amount_loans_previous"] = avg_previous_loop(df, loop_users)
    else:
        df["avg_amount_loans_previous"] = grouped["loan_amount"].transform(
            lambda s: s.shift().expanding().mean()
        )
    now = pd.Timestamp(today)
    df["age"] = (now - _to_datetime_v1(df["birthday"])).dt.days // 365
    df["years_on_the_job"] = (now - _to_datetime_v1(df["job_start_date"])).dt.days // 365
    df["flag_own_car"] = df["flag_own_car"].map(lambda v: 0 if v == "N" else 1)
    out = df[["loan_id", *OUTPUT]]
    return out.fillna(0) if fill else out
