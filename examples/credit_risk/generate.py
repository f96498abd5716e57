"""Seeded loan histories shaped like the lender's real file (the loans of Kueski's public
"Machine Learning Engineer Technical Challenge").

Calibrated to the real profile: ~21 loans per user (1..61), 1.49% defaults, loan dates
2019-01-01..2020-12-30, amounts floored at 100 with a long tail, ~17% of users (the
pensioners) with job_start_date 3021-09-18, job starts after loan dates, missing
occupation types, several loans on one day. Written in chunks of users, so memory stays
flat from a thousand rows to tens of millions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

REFERENCE_DAY = dt.date(2021, 9, 17)  # the day the source system computed its offsets from
SENTINEL = dt.date(3021, 9, 18)  # DAYS_EMPLOYED = 365243: "no job" (pensioners)
FIRST_LOAN_DAY = dt.date(2019, 1, 1)
LOAN_DAYS = 730
FIRST_USER_ID = 5_008_804
CHUNK_ROWS = 400_000
DEFAULT_LOGIT = -5.32  # gives ~1.49% defaults with the risk terms below

INCOME_TYPES = (
    ["Working", "Commercial associate", "Pensioner", "State servant", "Student"],
    [0.516, 0.233, 0.169, 0.0817, 0.0003],
)
EDUCATION = (
    [
        "Secondary / secondary special",
        "Higher education",
        "Incomplete higher",
        "Lower secondary",
        "Academic degree",
    ],
    [0.68, 0.27, 0.039, 0.01, 0.001],
)
FAMILY = (
    ["Married", "Single / not married", "Civil marriage", "Separated", "Widow"],
    [0.68, 0.13, 0.08, 0.06, 0.05],
)
HOUSING = (
    [
        "House / apartment",
        "With parents",
        "Municipal apartment",
        "Rented apartment",
        "Office apartment",
        "Co-op apartment",
    ],
    [0.89, 0.05, 0.03, 0.015, 0.01, 0.005],
)
OCCUPATIONS = (
    [
        "Laborers",
        "Core staff",
        "Sales staff",
        "Managers",
        "Drivers",
        "High skill tech staff",
        "Accountants",
        "Medicine staff",
        "Cooking staff",
        "Security staff",
        "Cleaning staff",
        "Private service staff",
        "Low-skill Laborers",
        "Secretaries",
        "Waiters/barmen staff",
        "Realty agents",
        "HR staff",
        "IT staff",
    ],
    [25, 14, 13, 12, 9, 6, 5, 5, 3, 2.5, 2, 1.3, 0.8, 0.6, 0.6, 0.4, 0.3, 0.3],
)

SCHEMA = pa.schema(
    [
        ("loan_id", pa.int64()),
        ("id", pa.int64()),
        ("code_gender", pa.string()),
        ("flag_own_car", pa.string()),
        ("flag_own_realty", pa.string()),
        ("cnt_children", pa.int64()),
        ("amt_income_total", pa.float64()),
        ("name_income_type", pa.string()),
        ("name_education_type", pa.string()),
        ("name_family_status", pa.string()),
        ("name_housing_type", pa.string()),
        ("days_birth", pa.int64()),
        ("days_employed", pa.int64()),
        ("flag_mobil", pa.int64()),
        ("flag_work_phone", pa.int64()),
        ("flag_phone", pa.int64()),
        ("flag_email", pa.int64()),
        ("occupation_type", pa.string()),
        ("cnt_fam_members", pa.float64()),
        ("status", pa.int64()),
        ("birthday", pa.date32()),
        ("job_start_date", pa.date32()),
        ("loan_date", pa.date32()),
        ("loan_amount", pa.float64()),
    ]
)

_EPOCH = dt.date(1970, 1, 1)
_REF = (REFERENCE_DAY - _EPOCH).days


def _choice(rng: np.random.Generator, spec: tuple[list[str], list[float]], n: int) -> np.ndarray:
    names, weights = spec
    p = np.asarray(weights, dtype=float)
    return rng.choice(np.asarray(names, dtype=object), size=n, p=p / p.sum())


def _loans_per_user(rng: np.random.Generator, n: int) -> np.ndarray:
    # Gamma(2, 10.65): mean 21.3, median ~18, quartiles ~10/29, as in the real file.
    return np.clip(np.rint(rng.gamma(2.0, 10.65, n)), 1, 61).astype(np.int64)


def _users(rng: np.random.Generator, first_id: int, n: int) -> dict[str, np.ndarray]:
    ids = first_id + np.cumsum(rng.integers(1, 8, n)) - 1
    income_type = _choice(rng, INCOME_TYPES, n)
    pensioner = income_type == "Pensioner"
    age_days = np.where(
        pensioner, rng.integers(50 * 365, 68 * 365, n), rng.integers(20 * 365 + 190, 64 * 365, n)
    )
    birthday = _REF - age_days
    tenure = np.minimum(rng.exponential(6.5 * 365, n), age_days - 17 * 365).astype(np.int64)
    job_start = np.maximum(_REF - 17 - tenure, (dt.date(1978, 9, 10) - _EPOCH).days)
    job_start = np.where(pensioner, (SENTINEL - _EPOCH).days, job_start)
    children = rng.choice([0, 1, 2, 3, 4], n, p=[0.69, 0.2, 0.09, 0.015, 0.005])
    family = _choice(rng, FAMILY, n)
    couple = np.isin(family, ["Married", "Civil marriage"])
    income = np.clip(np.round(rng.lognormal(np.log(160_000), 0.5, n), -2), 27_000, 1_575_000)
    occupation = _choice(rng, OCCUPATIONS, n)
    occupation[pensioner | (rng.random(n) < 0.17)] = None
    owns_realty = rng.random(n) < 0.672
    owns_car = rng.random(n) < 0.38
    # Risk partly visible in the features (young, new in the job, no car) and partly not.
    risk = (
        rng.normal(0.0, 0.8, n)
        + 0.6 * (income < 120_000)
        + 1.4 * (age_days < 30 * 365)
        + 0.8 * (age_days < 25 * 365)
        + 1.2 * ((tenure < 2 * 365) & ~pensioner)
        - 0.7 * owns_car
        - 0.3 * owns_realty
    )
    return {
        "id": ids,
        "code_gender": np.where(rng.random(n) < 0.67, "F", "M").astype(object),
        "flag_own_car": np.where(owns_car, "Y", "N").astype(object),
        "flag_own_realty": np.where(owns_realty, "Y", "N").astype(object),
        "cnt_children": children,
        "amt_income_total": income,
        "name_income_type": income_type,
        "name_education_type": _choice(rng, EDUCATION, n),
        "name_family_status": family,
        "name_housing_type": _choice(rng, HOUSING, n),
        "days_birth": -age_days,
        "days_employed": np.where(pensioner, 365_243, job_start - _REF),
        "flag_mobil": np.ones(n, dtype=np.int64),
        "flag_work_phone": (rng.random(n) < 0.22).astype(np.int64),
        "flag_phone": (rng.random(n) < 0.29).astype(np.int64),
        "flag_email": (rng.random(n) < 0.09).astype(np.int64),
        "occupation_type": occupation,
        "cnt_fam_members": (children + 1 + couple).astype(np.float64),
        "birthday": birthday,
        "job_start_date": job_start,
        "_risk": risk,
    }


def _chunk(
    rng: np.random.Generator, users: dict[str, np.ndarray], counts: np.ndarray, ids: np.ndarray
) -> pa.Table:
    owner = np.repeat(np.arange(len(counts)), counts)
    n = len(owner)
    columns: dict[str, np.ndarray] = {"loan_id": ids}
    for name, values in users.items():
        columns[name] = values[owner]
    loan_day = rng.integers(0, LOAN_DAYS, n)
    columns["loan_date"] = (FIRST_LOAN_DAY - _EPOCH).days + loan_day
    columns["loan_amount"] = 100.0 + np.minimum(rng.lognormal(2.85, 1.05, n), 719.87)
    logit = DEFAULT_LOGIT + columns.pop("_risk")
    columns["status"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    arrays = []
    for field in SCHEMA:
        values = columns[field.name]
        if pa.types.is_date32(field.type):
            arrays.append(pa.array(values.astype(np.int32), pa.int32()).cast(pa.date32()))
        else:
            arrays.append(pa.array(values, field.type, from_pandas=True))
    return pa.Table.from_arrays(arrays, schema=SCHEMA)


def _dirty(rng: np.random.Generator, table: pa.Table, share: float) -> pa.Table:
    """Break a share of rows, one contract rule each, the way real extracts break."""
    n = table.num_rows
    kind = np.where(rng.random(n) < share, rng.integers(0, 6, n), -1)
    loan_ids = table.column("loan_id").to_numpy()
    loan_date = table.column("loan_date")
    late_birthday = pc.add(
        pc.cast(loan_date, pa.timestamp("s")), pa.scalar(400 * 86400, pa.duration("s"))
    )
    edits: dict[str, tuple[int, pa.Array | pa.Scalar]] = {
        "loan_amount": (0, pc.negate(table.column("loan_amount"))),
        "loan_date": (1, pa.scalar(None, pa.date32())),
        "flag_own_car": (2, pa.scalar("yes")),
        "loan_id": (3, pa.array(np.roll(loan_ids, -1))),
        "birthday": (4, pc.cast(late_birthday, pa.date32())),
    }
    columns = {name: table.column(name) for name in table.column_names}
    for name, (k, broken) in edits.items():
        columns[name] = pc.if_else(pa.array(kind == k), broken, columns[name])
    future = pa.scalar(dt.date(2099, 1, 1), pa.date32())
    columns["loan_date"] = pc.if_else(pa.array(kind == 5), future, columns["loan_date"])
    return pa.table(columns, schema=SCHEMA)


def generate(
    rows: int,
    out: Path,
    seed: int = 7,
    fmt: str = "parquet",
    dirty: float = 0.0,
    on_rows: Callable[[int], None] | None = None,
) -> list[Path]:
    """Write ``rows`` loans to ``out/loans.<fmt>``; the same seed gives the same file."""
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"loans.{fmt}"
    tmp = path.with_suffix(path.suffix + ".partial")
    loan_ids = rng.permutation(rows) + 1
    writer: pq.ParquetWriter | pacsv.CSVWriter
    writer = pq.ParquetWriter(tmp, SCHEMA) if fmt == "parquet" else pacsv.CSVWriter(tmp, SCHEMA)
    done, next_id = 0, FIRST_USER_ID
    with writer:
        while done < rows:
            want = min(CHUNK_ROWS, rows - done)
            counts = _loans_per_user(rng, max(1, want // 18))
            counts = counts[: np.searchsorted(np.cumsum(counts), want) + 1]
            counts[-1] -= max(0, int(counts.sum()) - want)
            users = _users(rng, next_id, len(counts))
            next_id = int(users["id"][-1]) + 1
            table = _chunk(rng, users, counts, loan_ids[done : done + int(counts.sum())])
            if dirty:
                table = _dirty(rng, table, dirty)
            writer.write_table(table)
            done += table.num_rows
            if on_rows is not None:
                on_rows(table.num_rows)
    tmp.replace(path)
    return [path]
