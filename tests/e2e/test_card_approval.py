"""card_approval on the same machinery: the real file when TABSHIP_DATA holds it (CI points
it at the shared data), generated applicants of the same shape otherwise."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from tabship.data.generate import generate
from tabship.data.report import QualityReport
from tabship.errors import ContractError
from tabship.pipeline import Pipeline
from tabship.serving.app import create_app
from tabship.settings import Settings
from tabship.usecase import UseCase, load_usecase
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.slow
REAL = (Settings().data or Path("/nonexistent")) / "card_approval" / "training_set.parquet"


@pytest.fixture(scope="module")
def card_approval() -> UseCase:
    return load_usecase("card_approval", EXAMPLES)


@pytest.fixture(scope="module")
def source(card_approval: UseCase, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if REAL.is_file():
        return REAL
    return generate(card_approval, 1257, tmp_path_factory.mktemp("cards"), seed=3)[0]


@pytest.fixture
def home(tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path / "home",
        usecases=EXAMPLES,
        tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
    )


@pytest.fixture(scope="module")
def quick(card_approval: UseCase) -> UseCase:
    """card_approval with a short search (tests check behaviour, not model quality)."""
    spec = card_approval.training
    assert spec is not None
    return card_approval.model_copy(update={"training": spec.model_copy(update={"trials": 2})})


def _build(settings: Settings, usecase: UseCase, source: Path) -> QualityReport:
    return Pipeline(settings).build(usecase, [source]).report


@pytest.mark.skipif(not REAL.is_file(), reason="needs the real card_approval file (TABSHIP_DATA)")
def test_the_original_protocol_reproduces_the_reported_auc() -> None:
    original = load_usecase("card_approval", EXAMPLES).load_callable("original.py:original")
    result = original(pd.read_parquet(REAL))
    assert (result.train_rows, result.validation_rows) == (853, 404)
    assert result.auc == pytest.approx(0.59, abs=0.01)


def test_card_approval_builds_trains_and_serves(
    quick: UseCase, source: Path, home: Settings
) -> None:
    settings = home
    report = _build(settings, quick, source)
    raw = pd.read_parquet(source)
    exact = int(raw.astype(str).duplicated().sum())
    assert report.exact_duplicates_dropped == exact > 0  # counted, each kept once
    assert report.rows_in == len(raw) - exact
    assert report.unlabelled == int(raw.loc[~raw.astype(str).duplicated(), "default"].isna().sum())
    pipeline = Pipeline(settings)
    pipeline.materialize(quick)
    result = pipeline.train(quick)
    assert result.version == "1"
    assert 0.0 <= result.metrics["roc_auc"] <= 1.0  # the signal is weak: the original claims 0.59
    assert "## Against the baseline: the original logistic regression" in result.report
    assert 0.5 < result.baseline["roc_auc"] < 0.7  # the original model, on our split
    pipeline.approve("card_approval", result.version, by="ana", reason="test", override=True)

    applicant = raw.iloc[0]
    ids = (
        applicant["ids"].decode() if isinstance(applicant["ids"], bytes) else str(applicant["ids"])
    )
    payload = {
        "ids": ids,
        **{c: float(applicant[c]) for c in ("score_3", "score_4", "score_5", "score_6", "income")},
    }
    with TestClient(create_app(settings, sync="off")) as client:
        by_payload = client.post("/v1/models/card_approval/predict", json=payload)
        assert by_payload.status_code == 200, by_payload.text
        assert by_payload.json()["ids"] == ids
        by_id = client.post("/v1/models/card_approval/predict", json={"ids": ids})
        assert by_id.json()["prediction"] == pytest.approx(
            by_payload.json()["prediction"], abs=1e-6
        )
        wrong = client.post("/v1/models/card_approval/predict", json={**payload, "score_4": "high"})
        assert wrong.status_code == 422
        assert wrong.json()["error"]["field"] == "score_4"

        # the card issuer's own contract: {"id", scores, income} -> {"id", "prediction"}
        theirs = {"id": ids, **{k: v for k, v in payload.items() if k != "ids"}}
        answer = client.post("/predict", json=theirs)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"id": ids, "prediction": by_payload.json()["prediction"]}
        for body, field in (
            ({k: v for k, v in theirs.items() if k != "score_4"}, "score_4"),
            ({k: v for k, v in theirs.items() if k != "id"}, "id"),
            ({**theirs, "id": 12.5}, "id"),
            ({**theirs, "income": "a lot"}, "income"),
            ({**theirs, "age": 40}, "age"),
        ):
            refused = client.post("/predict", json=body)
            assert refused.status_code == 422, refused.text
            assert refused.json()["error"]["field"] == field
            assert refused.json()["error"]["message"].startswith(f"{field}:")
        assert client.post("/predict", content=b"id=1").status_code == 415


def test_a_new_file_trains_a_new_version_beside_the_old_one(
    quick: UseCase, source: Path, home: Settings, tmp_path: Path
) -> None:
    settings = home
    pipeline = Pipeline(settings)
    newer = generate(quick, 1500, tmp_path / "newer", seed=11)[0]
    for number, data in (("1", source), ("2", newer)):
        _build(settings, quick, data)
        assert pipeline.train(quick).version == number
        if number == "1":
            pipeline.approve("card_approval", "1", by="ana", reason="first", override=True)

    changed = tmp_path / "changed"
    changed.mkdir()
    pd.read_parquet(newer).drop(columns=["score_4"]).to_parquet(changed / "applicants.parquet")
    with pytest.raises(ContractError, match=r"missing column.*score_4"):
        _build(settings, quick, changed / "applicants.parquet")
    assert [str(v.version) for v in pipeline.registry.versions("card_approval")] == ["1", "2"]

    row = pd.read_parquet(newer).iloc[0]
    payload = {c: float(row[c]) for c in ("score_3", "score_4", "score_5", "score_6", "income")}
    with TestClient(create_app(settings, sync="off")) as client:
        answers = {
            v: client.post(f"/v1/models/card_approval/versions/{v}/predict", json=payload).json()
            for v in ("1", "2")
        }
        assert {v: a["version"] for v, a in answers.items()} == {"1": "1", "2": "2"}
        assert answers["2"]["alias"] == "challenger"
        # The issuer's own contract reaches every version side by side.
        theirs = {"id": "applicant-1", **payload}
        for v in ("1", "2"):
            mine = client.post(f"/predict?version={v}", json=theirs)
            assert mine.status_code == 200, mine.text
            assert mine.json() == {"id": "applicant-1", "prediction": answers[v]["prediction"]}
        by_alias = client.post("/predict?version=challenger", json=theirs).json()
        assert by_alias["prediction"] == answers["2"]["prediction"]
        every = client.post("/predict?version=all", json=theirs)
        assert every.status_code == 200, every.text
        assert every.json() == {
            "predictions": [
                {
                    "id": "applicant-1",
                    "prediction": answers["1"]["prediction"],
                    "version": "1",
                    "alias": "champion",
                },
                {
                    "id": "applicant-1",
                    "prediction": answers["2"]["prediction"],
                    "version": "2",
                    "alias": "challenger",
                },
            ]
        }
        for query, status, field in (
            ("version=7", 404, "version"),
            ("version=gold", 404, "version"),
            ("model=2", 422, "model"),
        ):
            refused = client.post(f"/predict?{query}", json=theirs)
            assert refused.status_code == status, refused.text
            assert refused.json()["error"]["field"] == field
        assert (
            client.post("/v1/models/card_approval/predict", json=payload).json()["version"] == "1"
        )
