"""The OpenAPI document is true: Schemathesis (every check, stateless phases) runs
against a live ``tabship serve`` with personal data closed behind keys, and finds
nothing; the document itself says what each route needs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from tabship.settings import Settings
from tests.integration.conftest import NAME, serving

KEY = "conformance-key-4f9a1c7e2b"
pytestmark = pytest.mark.slow


@pytest.fixture
def with_client_route(home: Settings) -> Settings:
    """The served home with a client route declared (its own field names)."""
    path = home.usecases / NAME / "usecase.yaml"
    declaration = yaml.safe_load(path.read_text())
    declaration["serving"] = {
        "max_batch": 20,
        "routes": [
            {
                "path": "/score",
                "rename": {"user": "id"},
                "required": ["user"],
                "response": ["user", "prediction"],
            }
        ],
    }
    path.write_text(yaml.safe_dump(declaration))
    return home


def test_schemathesis_finds_nothing_against_a_live_server(
    with_client_route: Settings, tmp_path: Path
) -> None:
    env = {
        "TABSHIP_OPEN_SCOPES": "[]",
        "TABSHIP_API_KEY": KEY,
        "TABSHIP_HIDE_INPUT_VALUES": "true",
        "TABSHIP_POLL_INTERVAL": "300",
    }
    with serving(with_client_route, **env) as (url, logs):
        done = subprocess.run(
            [
                str(Path(sys.executable).parent / "schemathesis"),
                "run",
                f"{url}/openapi.json",
                "--checks=all",
                "--phases=examples,coverage,fuzzing",
                "--max-examples=60",
                "--seed=20261201",
                f"--header=X-API-Key: {KEY}",
                "--no-color",
                f"--report-dir={tmp_path}",
            ],
            cwd=tmp_path,  # its cache of earlier failures stays in this test's folder
            capture_output=True,
            text=True,
            timeout=300,  # a bound; the run takes well under a minute
            check=False,
        )
        assert httpx.get(f"{url}/healthz").status_code == 200
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert " passed" in done.stdout.splitlines()[-1] or "passed" in done.stdout
    assert not [line for line in logs if '"request failed"' in line]


def test_the_document_declares_statuses_keys_bodies_and_text_metrics(
    with_client_route: Settings, client_for: object
) -> None:
    from fastapi.testclient import TestClient

    from tabship.serving.app import create_app

    with TestClient(create_app(with_client_route, sync="off")) as client:
        doc = client.get("/openapi.json").json()
    paths = doc["paths"]
    predict = paths[f"/v1/models/{NAME}/predict"]["post"]
    assert {"200", "401", "403", "404", "413", "415", "422", "500", "503"} <= set(
        predict["responses"]
    )
    error = predict["responses"]["422"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/Error"}
    body = predict["requestBody"]["content"]["application/json"]["schema"]
    by_id, by_values, batch = body["oneOf"]
    assert by_id["required"] == ["id"]
    assert set(by_values["required"]) == {
        "nb_previous_loans",
        "avg_amount_loans_previous",
        "age",
        "years_on_the_job",
        "flag_own_car",
    }
    assert batch["properties"]["instances"]["maxItems"] == 20
    client_route = paths["/score"]["post"]
    assert (
        "user"
        in client_route["requestBody"]["content"]["application/json"]["schema"]["oneOf"][0][
            "required"
        ]
    )
    assert [p["name"] for p in client_route["parameters"]] == ["version"]
    assert paths["/v1/admin/reload"]["post"]["security"] == [{"ApiKey": []}]
    assert {} in paths[f"/v1/features/{NAME}/{{entity_id}}"]["get"]["security"]  # open here
    assert "text/plain" in paths["/metrics"]["get"]["responses"]["200"]["content"]
    assert "/v1/models/{name}/predict" not in paths  # each model documents its own body
