"""Explanations served beside predictions: the same row and version as a prediction, adding
up to its score, for LightGBM (the champion) and a random forest (version 2)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tabship.serving.app import create_app
from tabship.settings import Settings
from tabship.stores.online import open_online_store
from tests.cli_runner import run_cli
from tests.integration.conftest import FEATURES, NAME, PREDICT, running

EXPLAIN = f"/v1/models/{NAME}/explain"


@pytest.fixture(scope="module")
def ids(served_home: Settings) -> list[int]:
    store = open_online_store(served_home)
    keys = store.keys(NAME, 5)
    store.close()
    return [int(k) for k in keys]


def _logit(p: float) -> float:
    return float(np.log(p / (1 - p)))


@pytest.mark.parametrize("route", ["", "/versions/2"], ids=["champion-lightgbm", "v2-forest"])
def test_an_explanation_adds_up_to_the_prediction_it_explains(
    client: TestClient, ids: list[int], route: str
) -> None:
    predict = f"/v1/models/{NAME}{route}/predict"
    explain = f"/v1/models/{NAME}{route}/explain"
    for key in ids:
        scored = client.post(predict, json={"id": key}).json()
        answer = client.post(explain, json={"id": key})
        assert answer.status_code == 200, answer.text
        why = answer.json()
        assert why["prediction"] == scored["prediction"]
        assert why["version"] == scored["version"]
        assert why["decision"] == scored["decision"]
        assert why["distance_to_threshold"] == pytest.approx(
            scored["prediction"] - scored["threshold"]
        )
        assert why["scale"] == "log-odds"
        total = why["base_value"] + sum(c["contribution"] for c in why["contributions"])
        assert total == pytest.approx(_logit(why["prediction"]), abs=1e-5)
        assert {c["input"] for c in why["contributions"]} == set(FEATURES)  # raw inputs
        magnitudes = [abs(c["contribution"]) for c in why["contributions"]]
        assert magnitudes == sorted(magnitudes, reverse=True)
        assert 1 <= len(why["reasons"]) <= 4
        assert "TreeSHAP" in why["explainer"]
        assert why["boundary"] == 0.03  # explain.boundary
        assert why["close_to_threshold"] == (abs(why["distance_to_threshold"]) <= 0.03)


def test_contributions_speak_in_declared_labels_and_units(
    client: TestClient, ids: list[int]
) -> None:
    why = client.post(EXPLAIN, json={"id": ids[0]}).json()
    told = {c["input"]: c for c in why["contributions"]}
    assert told["age"]["label"] == "Age"
    assert told["age"]["shown"].endswith(" years")  # explain.inputs.age.unit
    assert float(told["age"]["shown"].split()[0]) == pytest.approx(told["age"]["value"], abs=0.01)
    subjects = [
        "The number of earlier loans", "The size of earlier loans", "The client's age",
        "The time in the current job", "Car ownership",
    ]  # fmt: skip
    declared = {f"{s} {way} the risk" for s in subjects for way in ("raises", "lowers")}
    assert set(why["reasons"]) <= declared
    assert len(why["reasons"]) == 3  # explain.top


def test_explaining_by_values_is_explaining_by_id(client: TestClient, ids: list[int]) -> None:
    stored = client.get(f"/v1/features/{NAME}/{ids[0]}").json()["features"]
    by_id = client.post(EXPLAIN, json={"id": ids[0]}).json()
    by_values = client.post(EXPLAIN, json=stored)
    assert by_values.status_code == 200, by_values.text
    assert by_values.json()["prediction"] == pytest.approx(by_id["prediction"], abs=1e-9)
    assert by_values.json()["contributions"] == by_id["contributions"]
    by_payload = client.post(PREDICT, json=stored).json()
    assert by_values.json()["prediction"] == pytest.approx(by_payload["prediction"], abs=1e-9)


def test_global_importance_is_per_input_and_ordered(client: TestClient) -> None:
    answer = client.get(f"/v1/models/{NAME}/importance")
    assert answer.status_code == 200, answer.text
    ranked = answer.json()["importance"]
    assert {r["input"] for r in ranked} == set(FEATURES)
    values = [r["importance"] for r in ranked]
    assert values == sorted(values, reverse=True)
    assert values[0] > 0


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        (EXPLAIN, {"id": 987654321987}, 404, "id"),
        (EXPLAIN, {"instances": [{"id": 1}]}, 422, "instances"),
        (EXPLAIN, {"id": 1, "colour": 3}, 422, "colour"),
        (f"/v1/models/{NAME}/versions/99/explain", {"id": 1}, 404, "version"),
        ("/v1/models/nope/explain", {"id": 1}, 404, "name"),
    ],
)
def test_explain_errors_name_the_problem(
    client: TestClient, path: str, body: dict[str, Any], status: int, field: str
) -> None:
    answer = client.post(path, json=body)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["field"] == field


def test_a_version_without_an_explainer_says_so(
    home: Settings, client_for: Callable[..., TestClient], ids: list[int]
) -> None:
    for folder in (home.home / "serving" / NAME / "versions").glob("*/explain"):
        shutil.rmtree(folder)
    client = client_for(home, sync="off")
    assert client.post(PREDICT, json={"id": ids[0]}).status_code == 200  # predictions go on
    answer = client.post(EXPLAIN, json={"id": ids[0]})
    assert answer.status_code == 404
    error = answer.json()["error"]
    assert (error["code"], error["field"]) == ("no_explainer", "version")
    assert "no explainer" in error["message"]
    assert client.get(f"/v1/models/{NAME}/importance").status_code == 404


def test_tabship_explain_prints_reasons_and_contributions(
    served_home: Settings,
    ids: list[int],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TABSHIP_HOME", str(served_home.home))
    monkeypatch.setenv("TABSHIP_USECASES", str(served_home.usecases))
    monkeypatch.setenv("TABSHIP_TRACKING_URI", str(served_home.tracking_uri))
    with running(create_app(served_home, sync="off")) as url:
        shown = run_cli(["explain", NAME, str(ids[0]), "--url", url], capsys, monkeypatch)
        unknown = run_cli(["explain", NAME, "987654321987", "--url", url], capsys, monkeypatch)
    assert shown.code == 0, shown.err
    assert f"id {ids[0]}: score" in shown.out
    assert "contributions (log-odds; base value" in shown.out
    assert "  - " in shown.out  # the reasons, in words
    assert unknown.code == 1
    assert "404 unknown_entity" in unknown.err


def test_model_information_names_the_explainer_and_the_cost(client: TestClient) -> None:
    versions = client.get(f"/v1/models/{NAME}").json()["versions"]
    champion = next(v for v in versions if "champion" in v["aliases"])
    assert "TreeSHAP" in champion["explainer"]
    assert champion["cost"] == {"false_negative": 5.0, "false_positive": 1.0}


def test_similar_clients_are_aggregates_that_exclude_the_client(client: TestClient) -> None:
    picked = client.get(f"/v1/models/{NAME}/sample", params={"n": 8})
    assert picked.status_code == 200, picked.text
    known = picked.json()["ids"]
    assert len(known) == 8
    me = known[0]
    assert client.post(PREDICT, json={"id": int(me)}).status_code == 200  # ids that answer
    answer = client.get(f"/v1/models/{NAME}/similar/{me}", params={"k": 20})
    assert answer.status_code == 200, answer.text
    cohort = answer.json()
    assert cohort["cohort_size"] == 20
    assert 0 <= cohort["observed_rate"] <= 1
    quantiles = [cohort["scores"][q] for q in ("p10", "p25", "p50", "p75", "p90")]
    assert quantiles == sorted(quantiles)
    assert 1 <= len(cohort["inputs"]) <= 4
    for standing in cohort["inputs"]:
        assert standing["input"] in FEATURES
        assert standing["percentile"] is None or 0 <= standing["percentile"] <= 100
    text = answer.text
    assert all(f'"{other}"' not in text and f":{other}," not in text for other in known[1:])
    assert set(cohort) == {
        "id", "prediction", "cohort_size", "space", "observed_rate", "scores", "inputs",
        "model", "version", "feature_table_version",
    }  # fmt: skip
    for standing in cohort["inputs"]:
        spread = list((standing.get("cohort_quantiles") or {}).values())
        assert spread == sorted(spread)  # a number's spread, for a box plot


def test_peers_by_a_declared_comparison_share_its_inputs(
    client: TestClient, served_home: Settings
) -> None:
    versions = client.get(f"/v1/models/{NAME}").json()["versions"]
    champion = next(v for v in versions if "champion" in v["aliases"])
    assert champion["comparisons"] == {
        "age_band": "Same age band",
        "age_and_job": "Same age band and time in the job",
    }
    me = client.get(f"/v1/models/{NAME}/sample", params={"n": 1}).json()["ids"][0]
    url = f"/v1/models/{NAME}/similar/{me}"
    nearest = client.get(url, params={"k": 500}).json()
    peers = client.get(url, params={"k": 500, "compare": "age_band"})
    assert peers.status_code == 200, peers.text
    assert peers.json()["space"] == "Same age band"
    assert peers.json()["cohort_size"] >= 10

    def spread(answer: dict[str, Any]) -> float:
        (age,) = [s for s in answer["inputs"] if s["input"] == "age"]
        return float(age["cohort_quantiles"]["p95"] - age["cohort_quantiles"]["p5"])

    # everyone in the band shares the client's fifth of ages: a narrower spread of ages
    assert spread(peers.json()) < spread(nearest)
    unknown = client.get(url, params={"compare": "same_planet"})
    assert unknown.status_code == 404  # like an unknown version: nothing by that name
    assert unknown.json()["error"]["field"] == "compare"
    assert "age_band" in unknown.json()["error"]["message"]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (f"/v1/models/{NAME}/similar/987654321987", "id"),
        (f"/v1/models/{NAME}/similar/1?k=5", "k"),
        (f"/v1/models/{NAME}/similar/1?k=ten", "k"),
        (f"/v1/models/{NAME}/similar/1?size=20", "size"),
        (f"/v1/models/{NAME}/sample?n=0", "n"),
        (f"/v1/models/{NAME}/sample?n=101", "n"),
    ],
)
def test_similar_and_sample_errors_name_the_problem(
    client: TestClient, path: str, field: str
) -> None:
    answer = client.get(path)
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.json()["error"]["field"] == field
