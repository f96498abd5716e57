"""house_prices on the same machinery: the real files when TABSHIP_DATA holds them (CI
points it at the shared data), generated sales of the same shape otherwise. Demographics
are joined by zipcode at build time and by the service at prediction time."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from tabship.cli.client import rows, send
from tabship.data.generate import generate
from tabship.data.report import QualityReport
from tabship.data.sources import fingerprint
from tabship.errors import ContractError, SourceError
from tabship.pipeline import Pipeline
from tabship.registry.client import Registry
from tabship.serving.app import create_app
from tabship.settings import Settings
from tabship.stores.offline import OfflineStore
from tabship.usecase import UseCase, load_usecase
from tests.conftest import EXAMPLES
from tests.integration.conftest import running

pytestmark = pytest.mark.slow
REAL = (Settings().data or Path("/nonexistent")) / "house_prices"
HAS_REAL = (REAL / "kc_house_data.csv").is_file()


@pytest.fixture(scope="module")
def house_prices() -> UseCase:
    return load_usecase("house_prices", EXAMPLES)


@pytest.fixture(scope="module")
def data(house_prices: UseCase, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if HAS_REAL:
        return REAL
    folder = tmp_path_factory.mktemp("houses")
    generate(house_prices, 3000, folder, seed=3, dirty=0.01)
    return folder


@pytest.fixture
def home(tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path / "home", usecases=EXAMPLES, tracking_uri=f"sqlite:///{tmp_path / 'db'}"
    )


@pytest.fixture(scope="module")
def original_house(house_prices: UseCase) -> list[str]:
    """The house columns the original model used (the rest of its inputs are joined)."""
    _, columns, _ = house_prices.load_callable("original.py:baseline")(0)
    return [c for c in columns if c not in house_prices.enriched_columns]


@pytest.fixture(scope="module")
def small(house_prices: UseCase, original_house: list[str]) -> UseCase:
    """house_prices on the original's seven house columns plus demographics, with a short
    search: a model that needs fewer inputs than a client sends."""
    spec = house_prices.training
    assert spec is not None
    demographics = house_prices.enrich[0].columns
    view = house_prices.feature_view.model_copy(
        update={"features": [*original_house, *demographics]}
    )
    training = spec.model_copy(update={"trials": 2, "families": ["lightgbm"]})
    return house_prices.model_copy(update={"training": training, "feature_view": view})


def _build(settings: Settings, usecase: UseCase, folder: Path) -> QualityReport:
    return Pipeline(settings).build(usecase, [folder / "kc_house_data.csv"]).report


@pytest.mark.skipif(not HAS_REAL, reason="needs the real house_prices files (TABSHIP_DATA)")
def test_the_original_protocol_reproduces_the_reference_numbers() -> None:
    original = load_usecase("house_prices", EXAMPLES).load_callable("original.py:original")
    sales = pd.read_csv(REAL / "kc_house_data.csv", dtype={"zipcode": str})
    demographics = pd.read_csv(REAL / "zipcode_demographics.csv", dtype={"zipcode": str})
    result = original(sales, demographics)
    assert (result.train_rows, result.test_rows) == (16209, 5404)
    assert result.train["r2"] == pytest.approx(0.841, abs=0.001)
    assert result.test["r2"] == pytest.approx(0.728, abs=0.001)
    assert result.test["mae"] == pytest.approx(102_100, abs=100)


def test_house_prices_joins_demographics_at_build_and_at_serving(
    small: UseCase, original_house: list[str], data: Path, home: Settings
) -> None:
    settings = home
    report = _build(settings, small, data)
    if not HAS_REAL:  # the generator broke some rows on purpose
        assert report.by_rule["zipcode:known_in_demographics"] > 0
        assert report.by_rule["price:greater_than"] > 0
    features = OfflineStore(settings.offline_dir).open("house_prices", "features").to_pandas()
    assert features["sale"].is_unique  # id|date: a home sold twice is two rows
    demographics = pd.read_csv(data / "zipcode_demographics.csv", dtype={"zipcode": str})
    joined = features.merge(demographics, on="zipcode", suffixes=("", "_file"))
    assert len(joined) == len(features)
    assert (joined["medn_hshld_incm_amt"] == joined["medn_hshld_incm_amt_file"]).all()
    pipeline = Pipeline(settings)
    pipeline.materialize(small)
    result = pipeline.train(small)
    assert set(result.metrics) >= {"mae", "rmse", "r2", "mape"}
    assert set(result.baseline) >= {"mae", "rmse", "r2", "mape"}
    assert "Does it over- or under-fit?" in result.report
    assert "original 5-NN on 33 columns" in result.report
    pipeline.approve("house_prices", "1", by="ana", reason="test", override=True)

    homes = list(rows(data / "future_unseen_examples.csv", small))
    home_ = homes[0]
    assert isinstance(home_["zipcode"], str)
    version = fingerprint([data / "zipcode_demographics.csv"])
    with TestClient(create_app(settings, sync="off")) as client:
        answers = client.post("/v1/models/house_prices/predict", json={"instances": homes}).json()[
            "predictions"
        ]
        assert len(answers) == len(homes)
        assert all(a["version"] == "1" and a["prediction"] > 0 for a in answers)
        assert {a["demographics_version"] for a in answers} == {version}
        first = answers[0]
        assert list(first["features"]) == small.feature_view.features
        income = demographics.set_index("zipcode").loc[home_["zipcode"], "medn_hshld_incm_amt"]
        assert first["features"]["medn_hshld_incm_amt"] == income

        minimal = {k: home_[k] for k in [*original_house, "zipcode"]}
        short = client.post("/v1/models/house_prices/predict/minimal", json=minimal)
        assert short.status_code == 200, short.text
        assert short.json()["prediction"] == pytest.approx(first["prediction"], rel=1e-6)
        assert set(short.json()) == {
            "prediction",
            "model",
            "version",
            "demographics_version",
            "features",
        }

        for path, body, field, words in (
            ("/v1/models/house_prices/predict", {**home_, "zipcode": "99999"}, "zipcode", "99999"),
            ("/v1/models/house_prices/predict", {**home_, "ppltn_qty": 1.0}, "ppltn_qty", "joined"),
            (
                "/v1/models/house_prices/predict",
                {**home_, "bedrooms": "four"},
                "bedrooms",
                "number",
            ),
            ("/v1/models/house_prices/predict", minimal, "waterfront", "required"),
            ("/v1/models/house_prices/predict/minimal", home_, "waterfront", "not an input"),
        ):
            refused = client.post(path, json=body)
            assert refused.status_code == 422, refused.text
            error = refused.json()["error"]
            assert error["field"] == field
            assert error["message"].startswith(f"{field}:")
            assert words in error["message"]

        sold = str(features["id"].iloc[0])
        by_id = client.post("/v1/models/house_prices/predict", json={"id": sold})
        assert by_id.status_code == 200, by_id.text
        assert by_id.json()["feature_table_version"] is not None
    assert [str(v.version) for v in Registry(settings).versions("house_prices")] == ["1"]

    # what `tabship send` does: every row of the file, one request each, to a real server
    with running(create_app(settings, sync="off")) as url:
        summary = send(f"{url}/v1/models/house_prices/predict", iter(homes))
    assert (summary.sent, summary.answered) == (len(homes), len(homes))
    assert dict(summary.versions) == {"1": len(homes)}
    assert len(summary.predictions) == len(homes)
    assert any("answered by version 1" in line for line in summary.lines())


def test_bad_files_change_nothing(
    small: UseCase, data: Path, home: Settings, tmp_path: Path
) -> None:
    settings = home
    _build(settings, small, data)
    offline = OfflineStore(settings.offline_dir)
    before = offline.open("house_prices", "features").version()

    no_grade = tmp_path / "no_grade"
    no_grade.mkdir()
    shutil.copy(data / "zipcode_demographics.csv", no_grade)
    sales = pd.read_csv(data / "kc_house_data.csv", dtype=str)
    sales.drop(columns=["grade"]).to_csv(no_grade / "kc_house_data.csv", index=False)
    with pytest.raises(ContractError, match=r"missing column.*grade"):
        _build(settings, small, no_grade)

    thin = tmp_path / "thin"
    thin.mkdir()
    sales.to_csv(thin / "kc_house_data.csv", index=False)
    demographics = pd.read_csv(data / "zipcode_demographics.csv", dtype={"zipcode": str})
    demographics.drop(columns=["per_bchlr"]).to_csv(thin / "zipcode_demographics.csv", index=False)
    with pytest.raises(SourceError, match=r"missing column.*per_bchlr"):
        _build(settings, small, thin)
    assert offline.open("house_prices", "features").version() == before
