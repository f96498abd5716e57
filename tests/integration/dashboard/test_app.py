"""The dashboard against a live API (Streamlit's AppTest runs the script; the API runs in
uvicorn): a picked client's decision, score, threshold and reasons are the API's, and
every failure is a sentence, not a traceback."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from tabship.dashboard.launch import APP
from tabship.dashboard.words import percent
from tabship.serving.app import create_app
from tabship.settings import Settings
from tests.integration.conftest import NAME, free_port, running


@pytest.fixture(scope="module")
def api_url(served_home: Settings) -> Iterator[str]:
    with running(create_app(served_home, sync="off")) as url:
        yield url


def _dashboard(monkeypatch: pytest.MonkeyPatch, url: str) -> AppTest:
    monkeypatch.setenv("TABSHIP_DASHBOARD_API_URL", url)
    return AppTest.from_file(str(APP), default_timeout=30).run()


def _page(app: AppTest) -> str:
    """Everything the page says in words."""
    parts = [
        *(e.value for e in app.success),
        *(e.value for e in app.error),
        *(e.value for e in app.info),
        *(e.value for e in app.markdown),
        *(e.value for e in app.caption),
    ]
    return "\n".join(str(p) for p in parts)


def test_picking_a_client_shows_its_decision_score_threshold_and_reasons(
    monkeypatch: pytest.MonkeyPatch, api_url: str
) -> None:
    app = _dashboard(monkeypatch, api_url)
    assert not app.exception
    picker = app.selectbox(key="client")
    assert len(picker.options) == 100  # known clients, from the sample route
    client = picker.options[3]
    picker.select(client).run()
    assert not app.exception
    expected = httpx.post(f"{api_url}/v1/models/{NAME}/explain", json={"id": int(client)}).json()
    page = _page(app)
    decision = expected["decision_label"]  # explain.words: refused / accepted
    assert f"Client {client}: {decision}." in page
    assert (app.error if expected["decision"] else app.success)[0].value.startswith("**Client")
    assert percent(expected["prediction"]) in page
    assert percent(expected["threshold"]) in page
    assert f"version {expected['version']} (champion)" in page
    for i, reason in enumerate(expected["reasons"], 1):
        assert f"{i}. {reason}" in page
    assert "Chart, in words:" in page  # every chart has its text
    # people like this client: the nearest, then a declared comparison
    assert "clients most like this one (scored for similar reasons)" in page
    assert "of them defaulted." in page  # explain.words.outcome
    app.radio(key="compare").set_value("Same age band").run()
    assert not app.exception
    assert "clients: same age band." in _page(app)


def test_a_typed_unknown_id_says_so_and_a_pick_then_shows_the_client(
    monkeypatch: pytest.MonkeyPatch, api_url: str
) -> None:
    app = _dashboard(monkeypatch, api_url)
    app.text_input(key="typed").input("987654321987").run()
    assert not app.exception
    assert "No client with this id is known" in app.error[0].value
    picker = app.selectbox(key="client")
    picker.select(picker.options[0]).run()  # the last choice wins: the typed id is cleared
    assert app.text_input(key="typed").value == ""
    assert f"Client {picker.options[0]}:" in _page(app)


def test_an_api_that_is_down_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    app = _dashboard(monkeypatch, url)
    assert not app.exception
    assert f"The scoring service at {url} does not answer" in app.error[0].value


def test_a_version_without_an_explainer_shows_the_decision_and_why_no_reasons(
    monkeypatch: pytest.MonkeyPatch, home: Settings
) -> None:
    for folder in (home.home / "serving" / NAME / "versions").glob("*/explain"):
        shutil.rmtree(folder)
    with running(create_app(home, sync="off")) as url:
        app = _dashboard(monkeypatch, url)
        assert "No list of clients to pick from" in _page(app)
        key = _known_id(home)
        app.text_input(key="typed").input(key).run()
        assert not app.exception
        page = _page(app)
        assert f"Client {key}:" in page
        assert "gives no explanations" in page
        assert "Main reasons" not in page


def _known_id(settings: Settings) -> str:
    from tabship.stores.online import open_online_store

    store = open_online_store(settings)
    try:
        return str(store.keys(NAME, 1)[0])
    finally:
        store.close()


def test_the_app_is_the_launchers() -> None:
    from tabship.dashboard.launch import command

    args = command("127.0.0.1", 8599)
    assert str(APP) in args
    assert "--server.port=8599" in args
    assert "--browser.gatherUsageStats=false" in args  # nothing leaves for Streamlit's servers


def test_with_sign_in_required_no_client_shows_before_the_officer_signs_in(
    monkeypatch: pytest.MonkeyPatch, api_url: str
) -> None:
    monkeypatch.setenv("TABSHIP_DASHBOARD_LOGIN", "true")
    app = _dashboard(monkeypatch, api_url)
    assert not app.exception
    assert "sign in to see them" in _page(app)
    assert not app.selectbox  # no picker, no client, no call for data
    assert "no provider is configured" in app.error[0].value  # and it says what is missing


def test_the_demo_starts_the_dashboard_beside_the_api(
    served_home: Settings, api_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from tabship.cli.demo import start_dashboard
    from tabship.usecase import load_usecase
    from tests.integration.conftest import wait_until

    port = free_port()
    api_port = int(api_url.rsplit(":", 1)[1])
    usecase = load_usecase(NAME, served_home.usecases)
    process = start_dashboard(served_home, usecase, api_port, port)
    assert process is not None
    try:
        wait_until(f"http://127.0.0.1:{port}/_stcore/health", process)
        assert f"Dashboard for the officers: http://127.0.0.1:{port}" in capsys.readouterr().out
    finally:
        process.terminate()
        process.wait(30)
