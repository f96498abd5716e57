"""Home sales of the same shape as the agency's files (phData's MLE project), for when the real
files are not at hand: kc_house_data.csv (ids and zipcodes as quoted text, dates like
20141013T000000, ~1% of homes sold twice), zipcode_demographics.csv (one row per zipcode)
and future_unseen_examples.csv (the house columns only). Prices follow size, grade, age,
location and the zipcode's income, with noise, so a model has something to learn."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

# The declaration is the one list of the demographic columns and of a client's payload.
DECLARATION = yaml.safe_load((Path(__file__).parent / "usecase.yaml").read_text())
DEMOGRAPHICS: list[str] = DECLARATION["enrich"][0]["columns"]
HOUSE: list[str] = DECLARATION["serving"]["payload"]


def _demographics(rng: np.random.Generator, zipcodes: list[str]) -> pd.DataFrame:
    n = len(zipcodes)
    people = rng.integers(2_000, 70_000, n).astype(float)
    income = rng.lognormal(11.2, 0.3, n).round()
    shares = rng.dirichlet(np.ones(7), n) * 100
    frame = pd.DataFrame({c: rng.uniform(0, 1, n) * people for c in DEMOGRAPHICS})
    frame["ppltn_qty"] = people
    frame["medn_hshld_incm_amt"] = income
    frame["medn_incm_per_prsn_amt"] = (income * rng.uniform(0.4, 0.7, n)).round()
    frame["hous_val_amt"] = (income * rng.uniform(4, 9, n)).round(-2)
    for i, column in enumerate(DEMOGRAPHICS[19:]):
        frame[column] = shares[:, i].round()
    frame = frame.round()
    frame["zipcode"] = zipcodes
    return frame


def _homes(rng: np.random.Generator, n: int, zipcodes: list[str]) -> pd.DataFrame:
    sqft = rng.lognormal(7.55, 0.42, n).clip(290, 13_540).round(-1)
    basement = np.where(rng.random(n) < 0.4, (sqft * rng.uniform(0.1, 0.45, n)).round(-1), 0)
    zone = rng.integers(0, len(zipcodes), n)
    floors = rng.choice([1.0, 1.5, 2.0, 2.5, 3.0, 3.5], n, p=[0.49, 0.09, 0.38, 0.01, 0.029, 0.001])
    grade = np.round(7 + np.log(sqft / 1900) * 2.2 + rng.normal(0, 0.7, n))
    return pd.DataFrame(
        {
            "bedrooms": np.clip(np.round(sqft / 650 + rng.normal(0, 0.8, n)), 0, 33).astype(int),
            "bathrooms": np.clip(np.round((sqft / 900 + rng.normal(0, 0.5, n)) * 4) / 4, 0, 8),
            "sqft_living": sqft.astype(int),
            "sqft_lot": rng.lognormal(8.9, 0.9, n).clip(520, 1_651_359).astype(int),
            "floors": floors,
            "waterfront": (rng.random(n) < 0.0075).astype(int),
            "view": rng.choice([0, 1, 2, 3, 4], n, p=[0.9, 0.015, 0.045, 0.025, 0.015]),
            "condition": rng.choice([1, 2, 3, 4, 5], n, p=[0.002, 0.008, 0.65, 0.26, 0.08]),
            "grade": np.clip(grade, 1, 13).astype(int),
            "sqft_above": (sqft - basement).astype(int),
            "sqft_basement": basement.astype(int),
            "yr_built": rng.integers(1900, 2016, n),
            "yr_renovated": np.where(rng.random(n) < 0.04, rng.integers(1934, 2016, n), 0),
            "zipcode": [zipcodes[z] for z in zone],
            "lat": (47.15 + zone / len(zipcodes) * 0.6 + rng.normal(0, 0.03, n)).round(4),
            "long": (-122.5 + rng.uniform(0, 0.9, n)).round(3),
            "sqft_living15": (sqft * rng.uniform(0.6, 1.3, n)).round(-1).astype(int),
            "sqft_lot15": rng.lognormal(8.9, 0.8, n).clip(651, 871_200).astype(int),
        }
    )  # fmt: skip


def _price(rng: np.random.Generator, homes: pd.DataFrame, demo: pd.DataFrame) -> np.ndarray:
    income = homes["zipcode"].map(demo.set_index("zipcode")["medn_hshld_incm_amt"]).to_numpy()
    log_price = (
        12.2
        + 0.55 * np.log(homes["sqft_living"] / 1900)
        + 0.12 * (homes["grade"] - 7)
        + 0.35 * np.log(income / 73_000)
        + 0.5 * homes["waterfront"]
        + 0.05 * homes["view"]
        + 0.9 * (homes["lat"] - 47.45)
        - 0.001 * (homes["yr_built"] - 1970)
        + rng.normal(0, 0.2, len(homes))
    )
    return np.asarray(np.exp(log_price).clip(75_000, 7_700_000).round(-2), dtype=float)


def generate(
    rows: int,
    out: Path,
    seed: int = 7,
    fmt: str = "csv",
    dirty: float = 0.0,
    on_rows: Callable[[int], None] | None = None,
) -> list[Path]:
    """The three files, as CSV (the agency's format; ``fmt`` is accepted and ignored)."""
    rng = np.random.default_rng(seed)
    zipcodes = [str(98001 + 2 * i) for i in range(70)]
    demo = _demographics(rng, zipcodes)
    homes = _homes(rng, rows, zipcodes)
    ids = rng.integers(1_000_102, 9_900_000_190, rows)
    resold = rng.random(rows) < 0.008
    ids[resold] = np.roll(ids, 1)[resold]  # the same home sold twice
    days = rng.integers(0, 390, rows)
    sales = pd.DataFrame(
        {
            "id": ids.astype(str),
            "date": (pd.Timestamp("2014-05-02") + pd.to_timedelta(days, unit="D")).strftime(
                "%Y%m%dT000000"
            ),
            "price": _price(rng, homes, demo),
        }
    ).join(homes)
    if dirty:  # broken rows, each quarantined under its rule
        sales.loc[rng.random(rows) < dirty, "price"] = -1.0
        sales.loc[rng.random(rows) < dirty, "zipcode"] = "98999"  # no demographics for it
    sales = sales.drop_duplicates(["id", "date"])
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "kc_house_data.csv", out / "zipcode_demographics.csv"]
    sales.to_csv(paths[0], index=False)
    demo[[*DEMOGRAPHICS, "zipcode"]].to_csv(paths[1], index=False)
    _homes(rng, 100, zipcodes)[HOUSE].to_csv(out / "future_unseen_examples.csv", index=False)
    if on_rows is not None:
        on_rows(len(sales))
    return paths[:1]  # the source; the reference data and new homes lie beside it
