"""The dashboard's sentences: numbers in the units people read, directions in words."""

from __future__ import annotations

import pytest

from tabship.dashboard import words


def test_days_before_today_read_as_years_turn_the_order_round() -> None:
    age = {
        "input": "DAYS_BIRTH",
        "label": "Age",
        "value": -18_262.0,
        "shown": "50 years",
        "percentile": 20.0,  # of days: 80% were born earlier, i.e. are older
        "cohort_median": -14_610.0,
        "cohort_quantiles": {"p5": -25_000.0, "p25": -20_000.0, "p50": -14_610.0,
                             "p75": -11_000.0, "p95": -9_000.0},
        "display": {"unit": "years", "factor": -1 / 365.25},
    }  # fmt: skip
    s = words.scaled(age)
    assert s["percentile"] == 80.0  # older than 80% of them
    assert s["value"] == pytest.approx(50.0, abs=0.01)
    spread = list(s["cohort_quantiles"].values())
    assert spread == sorted(spread)  # p5 ≤ … ≤ p95, in years
    assert s["cohort_quantiles"]["p5"] == pytest.approx(9_000 / 365.25)
    said = words.standing_sentence(s)
    assert said == "Age: 50 years, higher than 80% of them (their middle value: 40 years)."


def test_a_score_close_to_the_threshold_says_so_in_words() -> None:
    why = {"prediction": 0.18, "threshold": 0.168, "close_to_threshold": True,
           "boundary": 0.03, "score_label": "risk of payment difficulties"}  # fmt: skip
    said = words.score_sentence(why)
    assert said.startswith("Estimated risk of payment difficulties: 18.0%, 1.2 percentage")
    assert "above the threshold of 16.8%" in said
    assert "close to the boundary (within 3.0%)" in said


def test_a_decision_without_declared_words_says_where_the_score_falls() -> None:
    assert words.decision({"decision": 1}) == "at or above the threshold"
    assert words.decision({"decision": 0, "decision_label": "accepted"}) == "accepted"
    line = words.contribution_line({"input": "age", "label": "Age", "shown": "50 years",
                                    "contribution": -0.25})  # fmt: skip
    assert line == "Age (50 years): lowers the score, -0.250"
