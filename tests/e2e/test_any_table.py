"""Tables tabship's examples have never seen, from a declaration and a data file only:
text features with rare and unseen levels, a text label, no id column, Yes/No flags,
missing values, a 3% positive rate, a wide regression table with text columns. Each is
built, materialised, trained, approved and served, and a row scores the same by id, by
raw payload, through `tabship send` and offline from the registered model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import mlflow
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from tabship.cli.client import model_fields, rows, send
from tabship.errors import TabshipError
from tabship.pipeline import Pipeline
from tabship.serving.app import create_app
from tabship.settings import Settings
from tests.cli_runner import run_cli
from tests.integration.conftest import running

pytestmark = pytest.mark.slow

APPLICATIONS = """
name: applications
description: Credit applications, one per row, no id column; the label is text.
source: {pattern: "*.csv", row_number: row}
target: risk
target_positive: bad
feature_view:
  features: [status, purpose, housing, duration, amount, age, foreign]
contract:
  columns:
    status: {type: string, nullable: false}
    purpose: {type: string}
    housing: {type: string}
    duration: {type: int64, min: 1}
    amount: {type: float64, min: 0}
    age: {type: int64, min: 18}
    foreign: {type: bool}
    risk: {type: string, nullable: false, isin: [good, bad]}
training:
  split: {by: group, column: row, test_size: 0.25}
  families: [lightgbm, logistic_regression]
  cv_folds: 3
  trials: 3
"""


def _applications(path: Path, rows: int = 3000, seed: int = 11) -> Path:
    rng = np.random.default_rng(seed)
    status = rng.choice(["< 0 DM", "0 <= ... < 200 DM", ">= 200 DM", "no checking"], rows)
    common = ["car (new)", "car (used)", "furniture", "radio/TV", "education", "business"]
    rare = [f"rare purpose {i}" for i in range(12)]  # a handful of rows each: grouped
    purpose = rng.choice([*common, *rare], rows, p=[*[0.94 / 6] * 6, *[0.06 / 12] * 12])
    frame = pd.DataFrame(
        {
            "status": status,
            "purpose": pd.Series(purpose).where(rng.random(rows) > 0.05, None),
            "housing": rng.choice(["own", "rent", "for free"], rows, p=[0.7, 0.2, 0.1]),
            "duration": rng.integers(4, 72, rows),
            "amount": np.round(rng.lognormal(8, 0.7, rows), 2),
            "age": rng.integers(19, 75, rows),
            "foreign": rng.choice(["Yes", "No"], rows, p=[0.1, 0.9]),
        }
    )
    frame.loc[rng.random(rows) < 0.05, "amount"] = np.nan
    logit = (
        -2.0
        + 1.4 * (frame["status"] == "< 0 DM")
        - 0.8 * (frame["status"] == "no checking")
        + 0.9 * (frame["housing"] == "rent")
        + 0.03 * (frame["duration"] - 20)
        + 0.7 * (frame["purpose"] == "education")
    )
    frame["risk"] = np.where(rng.random(rows) < 1 / (1 + np.exp(-logit)), "bad", "good")
    frame.to_csv(path, index=False)
    return path


def _settings(tmp_path: Path, name: str, declaration: str) -> Settings:
    cases = tmp_path / "cases"
    (cases / name).mkdir(parents=True)
    (cases / name / "usecase.yaml").write_text(declaration)
    return Settings(
        home=tmp_path / "home", usecases=cases, tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}"
    )


def _env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("TABSHIP_HOME", str(settings.home))
    monkeypatch.setenv("TABSHIP_USECASES", str(settings.usecases))
    monkeypatch.setenv("TABSHIP_TRACKING_URI", str(settings.tracking_uri))


def test_text_features_a_text_label_and_no_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path, "applications", APPLICATIONS)
    source = _applications(tmp_path / "applications.csv")
    pipeline = Pipeline(settings)
    report = pipeline.build("applications", [source]).report
    assert report.rows_quarantined == 0
    file = pd.read_csv(source, keep_default_na=False, na_values=[""])
    assert report.missing["purpose"] == file["purpose"].isna().sum() > 0  # per column
    assert report.missing["status"] == 0
    assert "- `purpose`: " in report.to_markdown()
    pipeline.materialize("applications")
    result = pipeline.train("applications")
    assert result.runtime == "onnx", result.runtime_reason
    assert result.metrics["roc_auc"] > 0.65
    assert "positive_class: `bad`" in result.report  # the report names the classes
    assert "risk = bad" in result.report
    pipeline.approve("applications", result.version, by="ana", reason="test", override=True)

    row = file.iloc[41]  # row number 42 (rows are numbered from 1, in file order)
    payload = {
        "status": row["status"],
        "purpose": None if pd.isna(row["purpose"]) else row["purpose"],
        "housing": row["housing"],
        "duration": int(row["duration"]),
        "amount": None if pd.isna(row["amount"]) else float(row["amount"]),
        "age": int(row["age"]),
        "foreign": row["foreign"] == "Yes",  # the feature API's spelling: true/false
    }
    with TestClient(create_app(settings, sync="off")) as client:
        by_id = client.post("/v1/models/applications/predict", json={"row": 42})
        assert by_id.status_code == 200, by_id.text
        stored = client.get("/v1/features/applications/42").json()["features"]
        assert stored == payload  # text as text, flags as true/false, numbers as numbers
        by_payload = client.post("/v1/models/applications/predict", json=payload)
        assert by_payload.status_code == 200, by_payload.text
        score = by_id.json()["prediction"]
        assert by_payload.json()["prediction"] == pytest.approx(score, abs=1e-6)
        assert by_id.json()["runtime"] == "onnx"

        unseen = client.post(
            "/v1/models/applications/predict", json={**payload, "purpose": "holiday"}
        )
        assert unseen.status_code == 200, unseen.text  # scored as unseen, not refused
        assert unseen.json()["unseen"] == ["purpose"]
        metrics = client.get("/metrics").text
        assert 'tabship_unseen_levels_total{input="purpose",model="applications"} 1.0' in metrics
        wrong = client.post("/v1/models/applications/predict", json={**payload, "status": 3})
        assert wrong.status_code == 422
        assert wrong.json()["error"]["field"] == "status"
        schema = client.get("/openapi.json").json()
        body = schema["paths"]["/v1/models/applications/predict"]["post"]["requestBody"]
        by_values = body["content"]["application/json"]["schema"]["oneOf"][1]["properties"]
        assert by_values["status"] == {"type": ["string", "null"]}
        assert {"type": "boolean"} in by_values["foreign"]["oneOf"]

    # offline, from the registered model as MLflow holds it
    mlflow.set_tracking_uri(str(settings.tracking_uri))
    model = mlflow.pyfunc.load_model(f"models:/applications/{result.version}")
    numbers = {"duration": float, "amount": float, "age": float, "foreign": float}
    offline = model.predict(pd.DataFrame([payload]).astype(numbers))  # its signature's types
    assert float(np.asarray(offline)[0]) == pytest.approx(score, abs=1e-6)

    # `tabship send`: the file's rows as they are (text, Yes/No, no label), to a live server
    sample = tmp_path / "sample.csv"
    pd.read_csv(source).iloc[40:60].to_csv(sample, index=False)
    _env(monkeypatch, settings)
    with running(create_app(settings, sync="off")) as url:
        sent = run_cli(["send", "applications", str(sample), "--url", url], capsys, monkeypatch)
    assert sent.code == 0, sent.out + sent.err
    assert "rows sent: 20; answered: 20" in sent.out
    logs = sorted(settings.predictions_dir.rglob("*.jsonl"))
    logged = pd.concat([pd.read_json(f, lines=True) for f in logs]).sort_values("time")
    assert "holiday" in {f["purpose"] for f in logged["features"]}  # logged as text
    sent_rows = logged[logged["id"].isna()].tail(20)  # the rows `send` posted, in order
    with TestClient(create_app(settings, sync="off")) as client:
        ids = [{"row": n} for n in range(41, 61)]
        answers = client.post("/v1/models/applications/predict", json={"instances": ids})
    by_id = [a["prediction"] for a in answers.json()["predictions"]]
    assert sent_rows["prediction"].to_numpy() == pytest.approx(by_id, abs=1e-6)


DEFAULTS = """
name: defaults
description: Card holders; 3% default; Yes/No flags and label; missing incomes.
source: {{pattern: "*.csv"}}
entity: holder
row_key: holder
target: default
target_positive: "Yes"
feature_view:
  features: [balance, income, student]
contract:
  columns:
    holder: {{type: string, nullable: false, unique: true}}
    balance: {{type: float64, min: 0}}
    income: {{type: float64, min: 0}}
    student: {{type: bool}}
    default: {{type: string, nullable: false, isin: ["Yes", "No"]}}
training:
  split: {{by: group, column: holder, test_size: 0.3}}
  families: [logistic_regression]
  imbalance: class_weight
  calibration: {calibration}
  cv_folds: 3
  trials: 2
"""


def _defaults(path: Path, rows: int = 8000) -> Path:
    rng = np.random.default_rng(2)
    balance = rng.gamma(2.0, 400, rows)
    frame = pd.DataFrame(
        {
            "holder": [f"H{i:05d}" for i in range(rows)],
            "balance": balance.round(2),
            "income": rng.normal(40_000, 12_000, rows).clip(1000).round(0),
            "student": rng.choice(["Yes", "No"], rows, p=[0.3, 0.7]),
        }
    )
    frame.loc[rng.random(rows) < 0.1, "income"] = np.nan  # real gaps
    logit = -5.6 + 0.0028 * (balance - 800) + 0.4 * (frame["student"] == "Yes")
    frame["default"] = np.where(rng.random(rows) < 1 / (1 + np.exp(-logit)), "Yes", "No")
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("calibration", ["auto", "none"])
def test_an_imbalanced_table_serves_probabilities(tmp_path: Path, calibration: str) -> None:
    settings = _settings(tmp_path, "defaults", DEFAULTS.format(calibration=calibration))
    source = _defaults(tmp_path / "defaults.csv")
    pipeline = Pipeline(settings)
    pipeline.build("defaults", [source])
    result = pipeline.train("defaults")
    m = result.metrics
    assert 0.01 < m["positive_rate"] < 0.06
    gate = next(g for g in result.gates if g.name.startswith("Brier score"))
    if calibration == "none":  # class weights push scores up: worse than the base rate
        assert m["brier"] > m["brier_base_rate"]
        assert not gate.passed
        assert not result.gates_passed
        with pytest.raises(TabshipError, match="gate"):
            pipeline.approve("defaults", result.version, by="ana", reason="test")
        return
    assert m["brier"] <= m["brier_base_rate"], m  # calibrated on out-of-fold scores
    assert gate.passed
    assert "Calibration" in result.report or "calibration" in result.report
    assert m["threshold"] < 0.5  # a probability: 5 FN = 1 FP puts it near 1/6
    pipeline.materialize("defaults")
    pipeline.approve("defaults", result.version, by="ana", reason="test")
    with TestClient(create_app(settings, sync="off")) as client:
        ids = [{"holder": f"H{i:05d}"} for i in range(100)]
        answers = client.post("/v1/models/defaults/predict", json={"instances": ids}).json()
    served = np.array([a["prediction"] for a in answers["predictions"]])
    assert served.mean() == pytest.approx(m["positive_rate"], abs=0.03)  # not inflated
    _alike_everywhere(settings, "defaults", source, [f"H{i:05d}" for i in range(20)])


WIDE = """
name: homes
description: A wide sales table, many text columns, a price to predict.
source: {{pattern: "*.csv", row_number: sale}}
target: price
feature_view:
  features: [{features}]
contract:
  columns:
{columns}
    price: {{type: float64, nullable: false, greater_than: 0}}
training:
  task: regression
  split: {{by: group, column: sale, test_size: 0.25}}
  families: [lightgbm]
  cv_folds: 2
  trials: 2
"""


def _wide(path: Path, rows: int = 2500) -> tuple[Path, str]:
    rng = np.random.default_rng(4)
    frame = pd.DataFrame(index=range(rows))
    columns = []
    for i in range(30):
        frame[f"n{i}"] = rng.normal(size=rows).round(4)
        columns.append(f"    n{i}: {{type: float64}}")
    for i in range(12):
        levels = [f"grade {j}" for j in range(3 + i)]
        frame[f"t{i}"] = rng.choice(levels, rows)
        columns.append(f"    t{i}: {{type: string}}")
    frame.loc[rng.random(rows) < 0.05, "t0"] = None
    price = 200_000 + 40_000 * frame["n0"] + 15_000 * frame["n1"]
    price += 30_000 * (frame["t0"] == "grade 1") - 20_000 * (frame["t1"] == "grade 2")
    frame["price"] = (price + rng.normal(0, 5_000, rows)).clip(20_000).round(0)
    frame.to_csv(path, index=False)
    features = ", ".join(c for c in frame.columns if c != "price")
    return path, WIDE.format(features=features, columns="\n".join(columns))


def test_a_wide_regression_table_with_text_is_served_by_onnx(tmp_path: Path) -> None:
    source, declaration = _wide(tmp_path / "homes.csv")
    settings = _settings(tmp_path, "homes", declaration)
    pipeline = Pipeline(settings)
    pipeline.build("homes", [source])
    pipeline.materialize("homes")
    result = pipeline.train("homes")
    assert result.runtime == "onnx", result.runtime_reason  # parity relative to the price
    assert "relative to the value" in result.runtime_reason
    assert result.metrics["r2"] > 0.5
    assert "a linear model on the same features" in result.report  # the default baseline
    assert "The prior (the training median" in result.report
    assert "homes" not in result.report.replace("# homes", "")  # the use case's own words
    pipeline.approve("homes", result.version, by="ana", reason="test", override=True)
    row = pd.read_csv(source).iloc[9]
    payload = {k: (None if pd.isna(v) else v) for k, v in row.drop("price").items()}
    with TestClient(create_app(settings, sync="off")) as client:
        by_id = client.post("/v1/models/homes/predict", json={"sale": 10}).json()
        by_payload = client.post("/v1/models/homes/predict", json=payload).json()
    assert by_id["runtime"] == "onnx"
    assert by_payload["prediction"] == pytest.approx(by_id["prediction"], rel=1e-6)
    _alike_everywhere(settings, "homes", source, list(range(1, 21)))


def _alike_everywhere(settings: Settings, name: str, source: Path, ids: list[Any]) -> None:
    """The file's first rows score the same by id, through what `tabship send` sends (the
    model's inputs, as the file has them) and offline from the registered model."""
    usecase = Pipeline(settings).usecase(name)
    file_rows = list(rows(source, usecase, model_fields(usecase)))[: len(ids)]
    with running(create_app(settings, sync="off")) as url:
        route = f"{url}/v1/models/{name}/predict"
        by_id = httpx.post(route, json={"instances": [{usecase.entity: i} for i in ids]})
        summary = send(route, iter(file_rows))
    expected = [a["prediction"] for a in by_id.json()["predictions"]]
    assert summary.answered == len(ids), summary.lines()
    assert summary.predictions == pytest.approx(expected, rel=1e-6, abs=1e-6)
    mlflow.set_tracking_uri(str(settings.tracking_uri))
    model = mlflow.pyfunc.load_model(f"models:/{name}/1")
    frame = pd.DataFrame(file_rows)[usecase.feature_view.features]
    text = [c for c in frame.columns if usecase.contract.columns[c].type == "string"]
    frame = frame.astype({c: float for c in frame.columns if c not in text})  # its signature
    offline = np.asarray(model.predict(frame), dtype=float)
    assert offline == pytest.approx(expected, rel=1e-6, abs=1e-6)
