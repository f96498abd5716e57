"""A use case from a declaration and a CSV only (no Python, no event time): built,
materialised, trained, approved and served, with no change to the package."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from tabship.pipeline import Pipeline
from tabship.serving.app import create_app
from tabship.settings import Settings

pytestmark = pytest.mark.slow

DECLARATION = """
name: applicants
description: Card applicants, one row each; a declaration and a CSV, nothing else.
entity: applicant_id
row_key: applicant_id
target: approved
source: {pattern: "*.csv"}
feature_view:
  features: [score_a, score_b, income, student]
contract:
  max_invalid_share: 0.05
  columns:
    applicant_id: {type: int64, nullable: false, unique: true, min: 0}
    score_a: {type: float64, nullable: false}
    score_b: {type: float64}
    income: {type: float64, min: 0}
    student: {type: bool}
    approved: {type: int64, nullable: false, isin: [0, 1]}
training:
  split: {by: group, column: applicant_id, test_size: 0.25}
  families: [logistic_regression]
  imbalance: none
  cv_folds: 2
  trials: 2
  metric: roc_auc
"""


def _applicants(path: Path, rows: int = 3000) -> Path:
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(
        {
            "applicant_id": np.arange(rows),
            "score_a": rng.normal(size=rows),
            "score_b": rng.normal(size=rows),
            "income": rng.lognormal(10, 0.5, size=rows),
            "student": rng.random(rows) < 0.3,
        }
    )
    frame.loc[rng.random(rows) < 0.05, "score_b"] = np.nan
    logit = 1.5 * frame["score_a"] - 1.0 * frame["score_b"].fillna(0) - 1.0 + frame["student"]
    frame["approved"] = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    frame.to_csv(path, index=False)
    return path


def test_a_declaration_and_a_csv_are_enough_to_train_and_serve(tmp_path: Path) -> None:
    cases = tmp_path / "cases"
    (cases / "applicants").mkdir(parents=True)
    (cases / "applicants" / "usecase.yaml").write_text(DECLARATION)
    settings = Settings(
        home=tmp_path / "home",
        usecases=cases,
        tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
    )
    source = _applicants(tmp_path / "applicants.csv")
    pipeline = Pipeline(settings)
    report = pipeline.build("applicants", [source]).report
    assert report.rows_out == 3000
    assert (settings.reports_dir / "applicants" / "latest.md").is_file()
    assert not list(settings.offline_dir.rglob("*.md"))  # reports never land in a table
    pipeline.materialize("applicants")
    result = pipeline.train("applicants")
    assert result.family == "logistic_regression"
    assert result.metrics["roc_auc"] > 0.7
    # Without a declared baseline: a plain logistic regression, in this use case's words.
    assert "## Against the baseline: a plain logistic regression" in result.report
    assert "notebook" not in result.report
    assert "loans" not in result.report
    pipeline.approve("applicants", result.version, by="ana", reason="test", override=True)

    with TestClient(create_app(settings, sync="off")) as client:
        by_id = client.post("/v1/models/applicants/predict", json={"applicant_id": 7})
        assert by_id.status_code == 200, by_id.text
        assert by_id.json()["runtime"] == "onnx"
        row = pd.read_csv(source).iloc[7]
        payload = {
            f: (None if pd.isna(row[f]) else float(row[f]))
            for f in ("score_a", "score_b", "income")
        }
        features = client.get("/v1/features/applicants/7").json()
        assert features["event_time"] is None
        assert set(features["features"]) == {"score_a", "score_b", "income", "student"}
        student = features["features"]["student"]
        assert isinstance(student, bool)  # the feature API's value goes back as it came
        for flag in (student, float(student)):  # a declared bool: true/false, or 1/0
            answer = client.post("/v1/models/applicants/predict", json={**payload, "student": flag})
            assert answer.status_code == 200, answer.text
            assert answer.json()["prediction"] == pytest.approx(
                by_id.json()["prediction"], abs=1e-6
            )
        refused = client.post(
            "/v1/models/applicants/predict", json={**payload, "student": True, "income": True}
        )
        assert refused.status_code == 422  # a number stays a number
        assert refused.json()["error"]["field"] == "income"
