"""Every bad input a caller or an attacker may send gets a 4xx naming the problem, in
the documented error shape, and the server keeps answering."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi import Request
from fastapi.testclient import TestClient

from tabship.serving.app import create_app
from tabship.settings import Settings
from tests.integration.conftest import FEATURES, NAME, PREDICT, serving

JSON = {"content-type": "application/json"}
BATCH = f"/v1/features/{NAME}"
BIG = b"18446744073709551616"  # 2**64


def _payload(**raw: bytes) -> bytes:
    """A credit_risk payload with some values given as raw JSON text."""
    values = {f: raw.get(f, b"1") for f in FEATURES}
    return b"{" + b", ".join(b'"%s": %s' % (f.encode(), v) for f, v in values.items()) + b"}"


@pytest.mark.parametrize(
    ("path", "body", "headers", "status", "code", "field"),
    [
        (BATCH, b'{"ids": ' + BIG + b"}", JSON, 422, "invalid_field", "ids"),
        (BATCH, b'{"ids": [1, ' + BIG + b"]}", JSON, 422, "invalid_field", "ids.1"),
        (BATCH, b'{"ids": [{"a": 1}]}', JSON, 422, "invalid_field", "ids.0"),
        (BATCH, b'{"ids": [[1]]}', JSON, 422, "invalid_field", "ids.0"),
        (BATCH, b'{"ids": [true]}', JSON, 422, "invalid_field", "ids.0"),
        (BATCH, b'{"ids": 5}', JSON, 422, "invalid_field", "ids"),
        (BATCH, b'{"ids": []}', JSON, 422, "invalid_field", "ids"),
        (BATCH, b"{}", JSON, 422, "missing_field", "ids"),
        (BATCH, b"[1, 2]", JSON, 422, "invalid_body", "body"),
        (BATCH, b'{"ids": [1], "extra": 2}', JSON, 422, "unknown_field", "extra"),
        (
            BATCH,
            json.dumps({"ids": list(range(101))}).encode(),
            JSON,
            422,
            "batch_too_large",
            "ids",
        ),
        (
            BATCH,
            b"ids=1",
            {"content-type": "application/x-www-form-urlencoded"},
            415,
            "unsupported_media_type",
            "body",
        ),
        (BATCH, b"ids=1", {"content-type": "text/plain"}, 415, "unsupported_media_type", "body"),
        (BATCH, b"{nope", JSON, 415, "invalid_json", "body"),
        (PREDICT, b'{"id": ' + BIG + b"}", JSON, 422, "invalid_field", "id"),
        (PREDICT, b'{"instances": [{"id": 1}], "x": 1}', JSON, 422, "unknown_field", "x"),
        (PREDICT, b'{"id": {"a": 1}}', JSON, 422, "invalid_field", "id"),
        (PREDICT, b'{"id": [1]}', JSON, 422, "invalid_field", "id"),
        (
            PREDICT,
            json.dumps({**dict.fromkeys(FEATURES, 1), "age": {"x": [1]}}).encode(),
            JSON,
            422,
            "invalid_field",
            "age",
        ),
        (PREDICT, b"id=1", {"content-type": "text/plain"}, 415, "unsupported_media_type", "body"),
        (PREDICT, _payload(age=b"1" + b"0" * 400), JSON, 422, "invalid_field", "age"),
        (PREDICT, _payload(age=b"1" * 5000), JSON, 422, "invalid_field", "body"),
        (PREDICT, _payload(age=b"1e999"), JSON, 422, "invalid_field", "age"),
        (
            PREDICT,
            b"id=1",
            {"content-type": "application/x-www-form-urlencoded"},
            415,
            "unsupported_media_type",
            "body",
        ),
        (PREDICT, b"{not json", JSON, 415, "invalid_json", "body"),
        (PREDICT, b'{"id": true}', JSON, 422, "invalid_field", "id"),
        (PREDICT, b'{"id": 1.5}', JSON, 422, "invalid_field", "id"),
        (PREDICT, b'{"age": 40}', JSON, 422, "missing_field", "nb_previous_loans"),
        (
            PREDICT,
            json.dumps({**dict.fromkeys(FEATURES, 1), "income": 9}).encode(),
            JSON,
            422,
            "unknown_field",
            "income",
        ),
        (
            PREDICT,
            json.dumps({**dict.fromkeys(FEATURES, 1), "age": "forty"}).encode(),
            JSON,
            422,
            "invalid_field",
            "age",
        ),
        (PREDICT, b'{"instances": []}', JSON, 422, "invalid_field", "instances"),
        (
            PREDICT,
            json.dumps({"instances": [{"id": 1}] * 101}).encode(),
            JSON,
            422,
            "batch_too_large",
            "instances",
        ),
        (PREDICT, b'{"id": 999999999}', JSON, 404, "unknown_entity", "id"),
        ("/v1/models/nope/predict", b'{"id": 1}', JSON, 404, "unknown_model", "name"),
        (
            f"/v1/models/{NAME}/versions/9/predict",
            b'{"id": 1}',
            JSON,
            404,
            "unknown_version",
            "version",
        ),
        (
            f"/v1/models/{NAME}/aliases/gold/predict",
            b'{"id": 1}',
            JSON,
            404,
            "unknown_alias",
            "alias",
        ),
    ],
)
def test_bad_bodies_are_4xx_naming_the_field(
    client: TestClient,
    path: str,
    body: bytes,
    headers: dict[str, str],
    status: int,
    code: str,
    field: str,
) -> None:
    got = client.post(path, content=body, headers=headers)
    assert got.status_code == status, got.text
    assert got.json()["error"]["code"] == code
    assert got.json()["error"]["field"] == field
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize("path", [BATCH, PREDICT, "/v1/admin/reload", "/predict-nowhere"])
def test_bodies_over_the_limit_are_413_with_or_without_a_length(
    served_home: Settings, client_for: Callable[..., TestClient], path: str
) -> None:
    client = client_for(served_home.model_copy(update={"max_body_bytes": 4096}), sync="off")
    big = b'{"ids": [' + b"1, " * 4000 + b"1]}"
    declared = client.post(path, content=big, headers=JSON)
    assert declared.status_code == 413, declared.text
    assert declared.json()["error"] == {
        "code": "body_too_large",
        "message": "bodies are limited to 4096 bytes",
        "field": "body",
    }

    assert client.get("/healthz").status_code == 200
    if path not in {BATCH, PREDICT}:
        return  # routes that read no body answer before it is read

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit applies while reading
        for start in range(0, len(big), 1000):
            yield big[start : start + 1000]

    streamed = client.post(path, content=chunks(), headers=JSON)
    assert streamed.status_code == 413, streamed.text


def test_wrong_methods_are_405_with_allow(client: TestClient) -> None:
    got = client.delete(f"/v1/models/{NAME}")
    assert got.status_code == 405
    assert got.json()["error"]["code"] == "method_not_allowed"
    assert "GET" in got.headers["allow"]


def test_hide_mode_hides_path_values_and_echoes_are_capped(
    served_home: Settings, client_for: Callable[..., TestClient]
) -> None:
    long = "7" * 5000
    shown = client_for(served_home, sync="off")
    capped = shown.post(f"/v1/models/{NAME}/versions/{long}/predict", json={"id": 1})
    assert capped.status_code == 404
    assert len(capped.text) < 400
    hidden = client_for(served_home.model_copy(update={"hide_input_values": True}), sync="off")
    for path in (
        f"/v1/models/{NAME}/versions/{long}/predict",
        f"/v1/models/{NAME}/aliases/{long}/predict",
        f"/v1/models/{long}/predict",
    ):
        got = hidden.post(path, json={"id": 1})
        assert got.status_code == 404
        assert "777" not in got.text
    unknown = hidden.post(PREDICT, json={**dict.fromkeys(FEATURES, 1), "k" * 500: 1})
    assert unknown.status_code == 422
    assert len(unknown.json()["error"]["field"]) <= 64


def test_an_unexpected_exception_is_a_500_in_the_error_shape_logged_without_values(
    served_home: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "4111-1111-1111-1111"
    app = create_app(served_home, sync="off")

    async def broken(request: Request) -> None:
        raise KeyError(f"no row for {(await request.body()).decode()}")

    app.add_api_route("/broken", broken, methods=["POST"])
    with TestClient(app, raise_server_exceptions=False) as client:
        got = client.post("/broken", content=secret, headers={"x-request-id": "req-500"})
        assert client.get("/healthz").status_code == 200
    assert got.status_code == 500
    assert got.json() == {
        "error": {"code": "internal_error", "message": "internal server error", "field": None}
    }
    assert got.headers["x-request-id"] == "req-500"
    failures = [r for r in caplog.records if r.getMessage() == "request failed"]
    assert len(failures) == 1
    assert failures[0].error == "KeyError"  # type: ignore[attr-defined]
    assert secret not in caplog.text
    assert all(secret not in str(v) for v in failures[0].__dict__.values())


@pytest.mark.slow
def test_in_hide_mode_no_log_line_holds_a_request_value(served_home: Settings) -> None:
    secret = "SECRET4111"
    bad = [
        ("post", BATCH, {"ids": [{"card": secret}]}),
        ("post", BATCH, {"ids": [secret], secret: 1}),
        ("post", PREDICT, {"id": secret}),
        ("post", PREDICT, {**dict.fromkeys(FEATURES, 1), "age": secret}),
        ("post", PREDICT, {**dict.fromkeys(FEATURES, 1), secret: 1}),
        ("post", f"/v1/models/{NAME}/versions/{secret}/predict", {"id": 1}),
        ("post", f"/v1/models/{NAME}/aliases/{secret}/predict", {"id": 1}),
        ("post", f"/v1/models/{secret}/predict", {"id": 1}),
        ("get", f"/v1/features/{NAME}/{secret}", None),
        ("get", f"/v1/models/{secret}", None),
        ("post", "/v1/admin/reload", None),
    ]
    with (
        serving(served_home, TABSHIP_HIDE_INPUT_VALUES="true") as (
            url,
            logs,
        ),
        httpx.Client(base_url=url) as http,
    ):
        for method, path, body in bad:
            got = http.request(method, path, json=body, headers={"x-api-key": secret})
            assert 400 <= got.status_code < 500, (path, got.text)
            if secret not in json.dumps(list(body or {})):  # field names are echoed, values not
                assert secret not in got.text, (path, got.text)
        http.post(BATCH, content=b'{"ids": [' + secret.encode() + b"]}", headers=JSON)
        assert http.get("/healthz").status_code == 200
    assert logs, "the server wrote no log at all"
    for line in logs:
        assert secret not in line
        json.loads(line)  # one JSON object per line


def test_a_number_beyond_64_bits_is_still_a_number(client: TestClient) -> None:
    got = client.post(PREDICT, content=_payload(age=BIG), headers=JSON)
    assert got.status_code == 200, got.text
