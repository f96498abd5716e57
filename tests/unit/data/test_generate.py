"""The credit_risk generator is seeded and shaped like the real file (Kueski's challenge loans)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

from tabship.data.generate import generate
from tabship.errors import SourceError
from tabship.usecase import UseCase


def test_same_seed_same_bytes(credit_risk: UseCase, tmp_path: Path) -> None:
    a = generate(credit_risk, 3_000, tmp_path / "a", seed=1)[0]
    b = generate(credit_risk, 3_000, tmp_path / "b", seed=1)[0]
    c = generate(credit_risk, 3_000, tmp_path / "c", seed=2)[0]
    digest = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (a, b, c)]
    assert digest[0] == digest[1] != digest[2]


def test_profile_matches_the_real_file(credit_risk: UseCase, tmp_path: Path) -> None:
    path = generate(credit_risk, 120_000, tmp_path, seed=3)[0]
    con = duckdb.connect()
    row = con.sql(f"""
        select count(*), avg(status), min(loan_date), max(loan_date), min(loan_amount),
               quantile_cont(loan_amount, 0.5),
               avg((job_start_date = DATE '3021-09-18')::int),
               avg((occupation_type is null)::int),
               count(distinct loan_id)
        from '{path}'""").fetchone()
    assert row is not None
    rows, positives, first, last, floor, median, sentinel, no_job, distinct = row
    assert rows == distinct == 120_000
    assert 0.012 < positives < 0.018  # real: 1.49%
    assert (str(first), str(last)) == ("2019-01-01", "2020-12-30")
    assert floor >= 100
    assert 112 < median < 124
    assert 0.14 < sentinel < 0.20  # real: ~17% of users are pensioners
    assert 0.2 < no_job < 0.4
    per_user = con.sql(f"""
        select min(n), max(n), avg(n), quantile_cont(n, 0.5) from
        (select id, count(*) n from '{path}' group by id)""").fetchone()
    assert per_user is not None
    assert per_user[0] >= 1
    assert per_user[1] <= 61
    assert 18 < per_user[2] < 25
    assert 15 <= per_user[3] <= 21
    quirks = con.sql(f"""
        select sum((job_start_date > loan_date and job_start_date < DATE '3000-01-01')::int),
               (select count(*) from (select id, loan_date from '{path}'
                                      group by all having count(*) > 1))
        from '{path}'""").fetchone()
    assert quirks is not None
    assert quirks[0] > 0
    assert quirks[1] > 0


def test_unknown_format_is_refused(credit_risk: UseCase, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="unknown format 'xlsx'"):
        generate(credit_risk, 10, tmp_path, fmt="xlsx")
