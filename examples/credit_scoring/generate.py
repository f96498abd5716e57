"""Applications of the same shape as the public Home Credit Default Risk application table
(Kaggle, 2018: ``application_train.csv``), for when no copy is at hand: one row per
application, 122 columns named as in that table, 8.07% defaults, 16 text columns, about
67 columns with missing values (some near 70%), DAYS_EMPLOYED's 365243 sentinel on ~18%
of rows (pensioners), a few CODE_GENDER 'XNA', one income far above the rest. The signal
is strongest, as in the real table, in the external scores, age and employment length."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

POSITIVE_RATE = 0.0807
BUILDING = [
    "APARTMENTS", "BASEMENTAREA", "YEARS_BEGINEXPLUATATION", "YEARS_BUILD", "COMMONAREA",
    "ELEVATORS", "ENTRANCES", "FLOORSMAX", "FLOORSMIN", "LANDAREA", "LIVINGAPARTMENTS",
    "LIVINGAREA", "NONLIVINGAPARTMENTS", "NONLIVINGAREA",
]  # fmt: skip
ORGANIZATIONS = [
    "Business Entity Type 3", "XNA", "Self-employed", "Other", "Medicine",
    "Business Entity Type 2", "Government", "School", "Trade: type 7", "Kindergarten",
    "Construction", "Business Entity Type 1", "Transport: type 4", "Trade: type 3",
    "Industry: type 9", "Industry: type 3", "Security", "Housing", "Industry: type 11",
    "Military", "Bank", "Agriculture", "Police", "Transport: type 2", "Postal",
    "Security Ministries", "Trade: type 2", "Restaurant", "Services", "University",
    "Industry: type 7", "Transport: type 3", "Industry: type 1", "Hotel", "Electricity",
    "Industry: type 4", "Trade: type 6", "Industry: type 5", "Insurance", "Telecom",
    "Emergency", "Industry: type 2", "Advertising", "Realtor", "Culture", "Industry: type 12",
    "Trade: type 1", "Mobile", "Legal Services", "Cleaning", "Transport: type 1",
    "Industry: type 6", "Industry: type 10", "Religion", "Industry: type 13", "Trade: type 4",
    "Trade: type 5", "Industry: type 8",
]  # fmt: skip
OCCUPATIONS = [
    "Laborers", "Sales staff", "Core staff", "Managers", "Drivers", "High skill tech staff",
    "Accountants", "Medicine staff", "Security staff", "Cooking staff", "Cleaning staff",
    "Private service staff", "Low-skill Laborers", "Waiters/barmen staff", "Secretaries",
    "Realty agents", "HR staff", "IT staff",
]  # fmt: skip


def _pick(rng: np.random.Generator, levels: list[str], rows: int, skew: float = 1.3) -> np.ndarray:
    weights = 1 / np.arange(1, len(levels) + 1) ** skew
    return rng.choice(np.array(levels, dtype=object), rows, p=weights / weights.sum())


def _gaps(rng: np.random.Generator, frame: pd.DataFrame, column: str, share: float) -> None:
    frame.loc[rng.random(len(frame)) < share, column] = None


def _people(rng: np.random.Generator, rows: int) -> pd.DataFrame:
    """Who applies: identity, family, income, work, region."""
    age_days = rng.uniform(20.5, 69, rows) * 365.25
    pensioner = rng.random(rows) < 0.18
    employed = np.minimum(rng.gamma(1.4, 1600, rows), age_days - 18 * 365.25)
    income = rng.lognormal(11.95, 0.5, rows).round(-2)
    income[rng.integers(rows)] = 117_000_000.0  # one income far above the rest, as in the table
    credit = (income * rng.uniform(0.8, 6.0, rows)).round(-3)
    frame = pd.DataFrame(
        {
            "NAME_CONTRACT_TYPE": rng.choice(["Cash loans", "Revolving loans"], rows, p=[0.9, 0.1]),
            "CODE_GENDER": rng.choice(["F", "M", "XNA"], rows, p=[0.658, 0.34199, 0.00001]),
            "FLAG_OWN_CAR": rng.choice(["N", "Y"], rows, p=[0.66, 0.34]),
            "FLAG_OWN_REALTY": rng.choice(["Y", "N"], rows, p=[0.69, 0.31]),
            "CNT_CHILDREN": rng.poisson(0.42, rows),
            "AMT_INCOME_TOTAL": income,
            "AMT_CREDIT": credit,
            "AMT_ANNUITY": (credit / rng.uniform(10, 40, rows)).round(1),
            "AMT_GOODS_PRICE": (credit * rng.uniform(0.8, 1.0, rows)).round(-3),
            "NAME_TYPE_SUITE": _pick(
                rng,
                [
                    "Unaccompanied",
                    "Family",
                    "Spouse, partner",
                    "Children",
                    "Other_B",
                    "Other_A",
                    "Group of people",
                ],
                rows,
                2.0,
            ),
            "NAME_INCOME_TYPE": np.where(
                pensioner,
                "Pensioner",
                _pick(
                    rng,
                    [
                        "Working",
                        "Commercial associate",
                        "State servant",
                        "Unemployed",
                        "Student",
                        "Businessman",
                        "Maternity leave",
                    ],
                    rows,
                    1.6,
                ),
            ),
            "NAME_EDUCATION_TYPE": _pick(
                rng,
                [
                    "Secondary / secondary special",
                    "Higher education",
                    "Incomplete higher",
                    "Lower secondary",
                    "Academic degree",
                ],
                rows,
                1.8,
            ),
            "NAME_FAMILY_STATUS": _pick(
                rng,
                ["Married", "Single / not married", "Civil marriage", "Separated", "Widow"],
                rows,
                1.5,
            ),
            "NAME_HOUSING_TYPE": _pick(
                rng,
                [
                    "House / apartment",
                    "With parents",
                    "Municipal apartment",
                    "Rented apartment",
                    "Office apartment",
                    "Co-op apartment",
                ],
                rows,
                2.5,
            ),
            "REGION_POPULATION_RELATIVE": rng.uniform(0.00029, 0.0725, rows).round(6),
            "DAYS_BIRTH": -age_days.round(0),
            "DAYS_EMPLOYED": np.where(pensioner, 365243.0, -employed.round(0)),
            "DAYS_REGISTRATION": -rng.uniform(0, 24000, rows).round(0),
            "DAYS_ID_PUBLISH": -rng.uniform(0, 7200, rows).round(0),
            "OWN_CAR_AGE": rng.gamma(2, 6, rows).round(0),
        }
    )
    _gaps(rng, frame, "OWN_CAR_AGE", 0.66)
    _gaps(rng, frame, "AMT_ANNUITY", 0.00004)
    _gaps(rng, frame, "AMT_GOODS_PRICE", 0.0009)
    _gaps(rng, frame, "NAME_TYPE_SUITE", 0.004)
    return frame


def _contacts(rng: np.random.Generator, rows: int) -> pd.DataFrame:
    """Phones, family size, region ratings, the day and hour of the application."""
    flags = {
        name: (rng.random(rows) < share).astype(np.int64)
        for name, share in (
            ("FLAG_MOBIL", 1.0), ("FLAG_EMP_PHONE", 0.82), ("FLAG_WORK_PHONE", 0.2),
            ("FLAG_CONT_MOBILE", 0.998), ("FLAG_PHONE", 0.28), ("FLAG_EMAIL", 0.057),
        )
    }  # fmt: skip
    frame = pd.DataFrame(flags)
    frame["OCCUPATION_TYPE"] = _pick(rng, OCCUPATIONS, rows, 1.1)
    _gaps(rng, frame, "OCCUPATION_TYPE", 0.31)
    frame["CNT_FAM_MEMBERS"] = (1 + rng.poisson(1.15, rows)).astype(float)
    _gaps(rng, frame, "CNT_FAM_MEMBERS", 0.00001)
    frame["REGION_RATING_CLIENT"] = rng.choice([1, 2, 3], rows, p=[0.1, 0.74, 0.16])
    frame["REGION_RATING_CLIENT_W_CITY"] = frame["REGION_RATING_CLIENT"]
    days = ["TUESDAY", "WEDNESDAY", "MONDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]
    frame["WEEKDAY_APPR_PROCESS_START"] = rng.choice(days, rows)
    frame["HOUR_APPR_PROCESS_START"] = rng.integers(0, 24, rows)
    for name, share in (
        ("REG_REGION_NOT_LIVE_REGION", 0.015), ("REG_REGION_NOT_WORK_REGION", 0.05),
        ("LIVE_REGION_NOT_WORK_REGION", 0.04), ("REG_CITY_NOT_LIVE_CITY", 0.08),
        ("REG_CITY_NOT_WORK_CITY", 0.23), ("LIVE_CITY_NOT_WORK_CITY", 0.18),
    ):  # fmt: skip
        frame[name] = (rng.random(rows) < share).astype(np.int64)
    frame["ORGANIZATION_TYPE"] = _pick(rng, ORGANIZATIONS, rows, 1.0)
    return frame


def _scores_and_building(rng: np.random.Generator, rows: int, risk: np.ndarray) -> pd.DataFrame:
    """External scores (driven by the hidden risk), building information, bureau counts."""
    frame = pd.DataFrame(index=range(rows))
    for i, (noise, gap) in enumerate(((1.3, 0.56), (1.0, 0.002), (1.1, 0.2)), start=1):
        score = 1 / (1 + np.exp(0.9 * risk + rng.normal(0, noise, rows)))
        frame[f"EXT_SOURCE_{i}"] = score.round(6)
        _gaps(rng, frame, f"EXT_SOURCE_{i}", gap)
    building = rng.random(rows) < 0.5  # about half the rows describe their building
    for name in BUILDING:
        base = rng.beta(2, 8, rows)
        for suffix in ("AVG", "MODE", "MEDI"):
            value = (base * rng.uniform(0.95, 1.05, rows)).clip(0, 1).round(4)
            frame[f"{name}_{suffix}"] = np.where(building, value, np.nan)
            share = 0.2 if name in {"COMMONAREA", "NONLIVINGAPARTMENTS", "LIVINGAPARTMENTS"} else 0
            _gaps(rng, frame, f"{name}_{suffix}", share)
    for name, levels in (
        (
            "FONDKAPREMONT_MODE",
            ["reg oper account", "org spec account", "reg oper spec account", "not specified"],
        ),
        ("HOUSETYPE_MODE", ["block of flats", "specific housing", "terraced house"]),
        (
            "WALLSMATERIAL_MODE",
            ["Panel", "Stone, brick", "Block", "Wooden", "Mixed", "Monolithic", "Others"],
        ),
        ("EMERGENCYSTATE_MODE", ["No", "Yes"]),
    ):
        frame[name] = pd.Series(_pick(rng, levels, rows, 2.0)).where(building, None)
    _gaps(rng, frame, "FONDKAPREMONT_MODE", 0.35)
    frame["TOTALAREA_MODE"] = np.where(building, rng.beta(2, 10, rows).round(4), np.nan)
    return frame


def _bureau(rng: np.random.Generator, rows: int) -> pd.DataFrame:
    """Social circle, phone change, documents, credit bureau enquiries."""
    frame = pd.DataFrame(index=range(rows))
    for days in (30, 60):
        frame[f"OBS_{days}_CNT_SOCIAL_CIRCLE"] = rng.poisson(1.4, rows).astype(float)
        frame[f"DEF_{days}_CNT_SOCIAL_CIRCLE"] = rng.poisson(0.1, rows).astype(float)
    circle = rng.random(rows) < 0.0033
    for column in [c for c in frame.columns if "SOCIAL_CIRCLE" in c]:
        frame.loc[circle, column] = np.nan
    frame["DAYS_LAST_PHONE_CHANGE"] = -rng.uniform(0, 4300, rows).round(0)
    _gaps(rng, frame, "DAYS_LAST_PHONE_CHANGE", 0.000003)
    for n in range(2, 22):
        frame[f"FLAG_DOCUMENT_{n}"] = (rng.random(rows) < (0.71 if n == 3 else 0.01)).astype(
            np.int64
        )
    enquiries = rng.random(rows) < 0.135
    for period, mean in (
        ("HOUR", 0.006),
        ("DAY", 0.007),
        ("WEEK", 0.034),
        ("MON", 0.27),
        ("QRT", 0.27),
        ("YEAR", 1.9),
    ):
        values = rng.poisson(mean, rows).astype(float)
        frame[f"AMT_REQ_CREDIT_BUREAU_{period}"] = np.where(enquiries, np.nan, values)
    return frame


def _risk(frame: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """A hidden risk: younger, shorter employment, lower education, men, renters, and a
    heavier credit relative to the annuity weigh towards default."""
    years = -frame["DAYS_BIRTH"] / 365.25
    employed = np.where(frame["DAYS_EMPLOYED"] > 0, 0, -frame["DAYS_EMPLOYED"] / 365.25)
    risk = (
        rng.normal(0, 1.0, len(frame))
        - 0.025 * (years - 43)
        - 0.06 * np.minimum(employed, 15)
        + 0.35 * (frame["CODE_GENDER"] == "M")
        + 0.3 * (frame["NAME_EDUCATION_TYPE"] == "Secondary / secondary special")
        + 0.3 * (frame["NAME_HOUSING_TYPE"] == "Rented apartment")
        + 0.02 * (frame["AMT_CREDIT"] / frame["AMT_ANNUITY"].fillna(1e9) - 25)
        + 0.2 * (frame["REGION_RATING_CLIENT"] - 2)
    )
    return np.asarray(risk, dtype=np.float64)


def generate(
    rows: int,
    out: Path,
    seed: int = 7,
    fmt: str = "parquet",
    dirty: float = 0.0,
    on_rows: Callable[[int], None] | None = None,
) -> list[Path]:
    """Write ``rows`` applications (122 columns) and a TARGET with 8.07% defaults."""
    rng = np.random.default_rng(seed)
    frame = pd.concat([_people(rng, rows), _contacts(rng, rows)], axis=1)
    risk = _risk(frame, rng)
    frame = pd.concat([frame, _scores_and_building(rng, rows, risk), _bureau(rng, rows)], axis=1)
    # Defaults follow the risk, with the intercept that gives the table's default rate.
    logit = 1.2 * risk
    low, high = -20.0, 20.0
    for _ in range(60):
        middle = (low + high) / 2
        rate = (1 / (1 + np.exp(-(logit + middle)))).mean()
        low, high = (middle, high) if rate < POSITIVE_RATE else (low, middle)
    target = (rng.random(rows) < 1 / (1 + np.exp(-(logit + low)))).astype(np.int64)
    frame.insert(0, "TARGET", target)
    frame.insert(0, "SK_ID_CURR", 100002 + np.arange(rows) + rng.integers(0, 2, rows).cumsum())
    if dirty:
        frame.loc[rng.random(rows) < dirty, "EXT_SOURCE_2"] = 1.7  # out of range: quarantined
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"application_train.{fmt}"
    if fmt == "csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    if on_rows is not None:
        on_rows(len(frame))
    return [path]
