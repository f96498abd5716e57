"""credit_scoring: a wide Home Credit–shaped table (122 columns, 16 of them text, most with
missing values) from its declaration, built, trained, approved and served."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from tabship.data.generate import generate
from tabship.pipeline import Pipeline
from tabship.serving.app import create_app
from tabship.settings import Settings
from tabship.usecase import UseCase, load_usecase
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def credit_scoring() -> UseCase:
    return load_usecase("credit_scoring", EXAMPLES)


def test_the_generated_table_has_the_public_tables_shape(
    credit_scoring: UseCase, tmp_path: Path
) -> None:
    (path,) = generate(credit_scoring, 40_000, tmp_path)
    frame = pd.read_parquet(path)
    assert frame.shape == (40_000, 122)
    assert set(frame.columns) == set(credit_scoring.contract.columns)  # named as declared
    text = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    assert len(text) == 16
    assert frame["ORGANIZATION_TYPE"].nunique() == 58
    assert (frame.isna().sum() > 0).sum() >= 60
    assert frame["TARGET"].mean() == pytest.approx(0.0807, abs=0.006)
    assert (frame["DAYS_EMPLOYED"] == 365243).mean() == pytest.approx(0.18, abs=0.01)
    assert frame["SK_ID_CURR"].is_unique


def test_credit_scoring_trains_and_serves_from_its_declaration(
    credit_scoring: UseCase, tmp_path: Path
) -> None:
    settings = Settings(
        home=tmp_path / "home", usecases=EXAMPLES, tracking_uri=f"sqlite:///{tmp_path / 'm.db'}"
    )
    pipeline = Pipeline(settings)
    files = generate(credit_scoring, 8_000, tmp_path / "data", dirty=0.002)
    report = pipeline.build(credit_scoring, files).report
    assert report.normalized["DAYS_EMPLOYED"] > 1000  # the pensioners' sentinel, now missing
    assert report.rows_quarantined > 0  # out-of-range external scores
    assert report.missing["OWN_CAR_AGE"] > 4000
    pipeline.materialize(credit_scoring)
    assert credit_scoring.training is not None
    fast = credit_scoring.model_copy(
        update={"training": credit_scoring.training.model_copy(update={"families": ["lightgbm"]})}
    )
    result = pipeline.train(fast, trials=2)
    assert result.runtime == "onnx", result.runtime_reason
    assert result.metrics["roc_auc"] > 0.65
    assert result.metrics["brier"] <= result.metrics["brier_base_rate"]
    pipeline.approve("credit_scoring", result.version, by="ana", reason="test", override=True)
    known = int(pd.read_parquet(files[0])["SK_ID_CURR"].iloc[3])
    with TestClient(create_app(settings, sync="off")) as client:
        answer = client.post("/v1/models/credit_scoring/predict", json={"SK_ID_CURR": known})
        why = client.post("/v1/models/credit_scoring/explain", json={"SK_ID_CURR": known})
        importance = client.get("/v1/models/credit_scoring/importance").json()
        alike = client.get(f"/v1/models/credit_scoring/similar/{known}", params={"k": 30})
    assert answer.status_code == 200, answer.text
    assert answer.json()["runtime"] == "onnx"
    assert why.status_code == 200, why.text
    reasons = why.json()["reasons"]
    assert len(reasons) == 4  # explain.top
    assert credit_scoring.explain is not None
    told = [*credit_scoring.explain.inputs.values(), *credit_scoring.explain.groups.values()]
    declared = {t for spec in told for t in (spec.raises, spec.lowers)}
    said = ("raises the score", "lowers the score")  # undeclared inputs: "<name> (<value>) ..."
    assert all(r in declared or r.endswith(said) for r in reasons), reasons
    assert "CODE_GENDER" not in {c["input"] for c in why.json()["contributions"]}
    # the four external scores are one group, told as one reason, their sum exactly
    contributions = {c["input"]: c for c in why.json()["contributions"]}
    groups = {g["group"]: g for g in why.json()["groups"]}
    scores = groups["external_scores"]
    assert scores["contribution"] == pytest.approx(
        sum(contributions[i]["contribution"] for i in scores["inputs"]), abs=1e-12
    )
    assert contributions["EXT_SOURCE_2"]["group"] == "external_scores"
    assert sum(r.startswith(("Low external", "High external")) for r in reasons) == 1
    ranked = importance["importance"]
    assert {r["input"] for r in ranked[:5]} & {"EXT_SOURCE_3", "EXT_SOURCES_MEAN", "EXT_SOURCE_2"}
    assert importance["groups"][0]["group"] == "external_scores"
    assert alike.status_code == 200, alike.text
    assert alike.json()["cohort_size"] == 30
    text_inputs = [s for s in alike.json()["inputs"] if "same_level_share" in s]
    assert all(0 <= s["same_level_share"] <= 1 for s in text_inputs)
