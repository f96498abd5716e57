"""The same five credit-risk features computed without tabship: bare DuckDB SQL and
vectorised pandas. Same semantics as ours (strictly earlier days, ages at the loan date),
no contract, no quarantine, no versioning: the floor our pipeline is measured against."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow.parquet as pq

SQL = """
COPY (
  SELECT loan_id, id, loan_date,
    count(*) OVER earlier AS nb_previous_loans,
    sum(loan_amount) OVER earlier / count(*) OVER earlier AS avg_amount_loans_previous,
    year(loan_date) - year(birthday)
      - ((month(loan_date) * 100 + day(loan_date))
         < (month(birthday) * 100 + day(birthday)))::BIGINT AS age,
    CASE WHEN job_start_date <> DATE '3021-09-18' AND job_start_date <= loan_date THEN
      year(loan_date) - year(job_start_date)
      - ((month(loan_date) * 100 + day(loan_date))
         < (month(job_start_date) * 100 + day(job_start_date)))::BIGINT END AS years_on_the_job,
    (flag_own_car = 'Y')::TINYINT AS flag_own_car,
    status
  FROM read_parquet('{source}')
  -- Strictly earlier days: one RANGE frame over day numbers (one sort for both aggregates).
  WINDOW earlier AS (PARTITION BY id ORDER BY loan_date - DATE '1970-01-01'
                     RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
) TO '{out}' (FORMAT parquet)
"""


def duckdb_sql(source: Path, out: Path, memory_limit: str, temp: Path) -> None:
    """The features as one hand-written DuckDB query, Parquet to Parquet: the floor tabship is held
    to."""
    con = duckdb.connect(
        config={
            "memory_limit": memory_limit,
            "temp_directory": str(temp),
            "preserve_insertion_order": False,
        }
    )
    con.execute(SQL.format(source=source, out=out))
    con.close()


def _calendar_years(start: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Completed years from start to at, as month*100+day comparisons (like ours)."""

    def parts(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        year = d.astype("datetime64[Y]")
        month = d.astype("datetime64[M]")
        return year.astype(np.int64), ((month - year).astype(np.int64) + 1) * 100 + (
            d - month
        ).astype(np.int64)

    start_year, start_md = parts(start.astype("datetime64[D]"))
    at_year, at_md = parts(at.astype("datetime64[D]"))
    years: np.ndarray = at_year - start_year - (at_md < start_md)
    return years


def pandas_vectorised(source: Path, out: Path) -> None:
    """What a careful pandas user writes: one sort, then cumulative sums per user and per
    (user, day), no Python loop."""
    cols = [
        "loan_id",
        "id",
        "loan_date",
        "loan_amount",
        "birthday",
        "job_start_date",
        "flag_own_car",
        "status",
    ]
    # Dates as datetime64 (the year-3021 sentinel fits at millisecond resolution).
    df = pq.read_table(source, columns=cols).to_pandas(date_as_object=False)
    loan = df["loan_date"].to_numpy().astype("datetime64[D]")
    order = np.lexsort((loan, df["id"].to_numpy()))
    df = df.iloc[order].reset_index(drop=True)
    df["loan_date"] = loan = loan[order]
    by_user = df.groupby("id", sort=False)
    by_day = df.groupby(["id", "loan_date"], sort=False)
    amount = df["loan_amount"]
    # Rows and amounts before this row, minus those of the same day sorted before it.
    before = by_user.cumcount() - by_day.cumcount()
    amount_before = (by_user["loan_amount"].cumsum() - amount) - (
        by_day["loan_amount"].cumsum() - amount
    )
    df["nb_previous_loans"] = before
    df["avg_amount_loans_previous"] = (amount_before / before).where(before > 0)
    df["age"] = _calendar_years(df["birthday"].to_numpy(), loan)
    job = df["job_start_date"].to_numpy().astype("datetime64[D]")
    known = (job != np.datetime64("3021-09-18")) & (job <= loan)
    years = pd.Series(_calendar_years(job, loan)).astype("Int64")
    df["years_on_the_job"] = years.where(known)
    df["flag_own_car"] = (df["flag_own_car"] == "Y").astype("int8")
    df[
        [
            "loan_id",
            "id",
            "loan_date",
            "nb_previous_loans",
            "avg_amount_loans_previous",
            "age",
            "years_on_the_job",
            "flag_own_car",
            "status",
        ]
    ].to_parquet(out)
