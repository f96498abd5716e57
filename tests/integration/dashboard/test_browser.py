"""The dashboard in a real browser: Debian's Chromium (never a downloaded browser),
driven by Playwright against a live API (credit_scoring) and a live dashboard. An officer
picks a client and reads the decision and the first reason; axe-core finds no serious or
critical accessibility violation. The screenshot goes to DASHBOARD_SCREENSHOTS (``make
docs-dashboard`` points it at docs/), else the test's own folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tabship.data.generate import generate
from tabship.pipeline import Pipeline
from tabship.serving.app import create_app
from tabship.settings import Settings
from tests.conftest import EXAMPLES
from tests.integration.conftest import running
from tests.integration.dashboard.browser import (
    CHROMIUM,
    dashboard,
    idle,
    offered,
    open_page,
    pick_client,
)

NAME = "credit_scoring"


@pytest.fixture(scope="module")
def api_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """credit_scoring served: 8,000 generated applications, a LightGBM champion."""
    root = tmp_path_factory.mktemp("scoring")
    settings = Settings(
        home=root / "home", usecases=EXAMPLES, tracking_uri=f"sqlite:///{root / 'm.db'}"
    )
    pipeline = Pipeline(settings)
    usecase = pipeline.usecase(NAME)
    assert usecase.training is not None
    pipeline.build(usecase, generate(usecase, 8_000, root / "data"))
    pipeline.materialize(usecase)
    fast = usecase.training.model_copy(update={"families": ["lightgbm"]})
    result = pipeline.train(usecase.model_copy(update={"training": fast}), trials=2)
    pipeline.approve(NAME, result.version, by="officer", reason="test", override=True)
    with running(create_app(settings, sync="off")) as url:
        yield url


def _explain(api_url: str, client: str) -> dict[str, Any]:
    body = {"SK_ID_CURR": int(client)}
    return dict(httpx.post(f"{api_url}/v1/models/{NAME}/explain", json=body).json())


def test_an_officer_reads_the_decision_and_first_reason_in_chromium(
    api_url: str, tmp_path: Path
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    assert Path(CHROMIUM).exists(), (
        f"{CHROMIUM} is missing: scripts/ensure-test-deps.sh installs it"
    )
    known = httpx.get(f"{api_url}/v1/models/{NAME}/sample", params={"n": 100}).json()["ids"]
    answers = [_explain(api_url, c) for c in known[:40]]
    # an officer's hardest call: a refusal (the first refused client, if any is offered)
    index = next((i for i, a in enumerate(answers) if a["decision"] == 1), 2)
    client, expected = known[index], answers[index]
    with dashboard(api_url) as url, open_page(url, height=1500) as page:
        shown = offered(page)
        assert shown == known[: len(shown)]  # the picker offers the sample, in order
        pick_client(page, client)
        headline = page.get_by_text(f"Client {client}:").first
        headline.wait_for(timeout=30_000)
        assert headline.inner_text().strip() == f"Client {client}: {expected['decision_label']}."
        first = page.locator('[data-testid="stMainBlockContainer"] ol li').first
        assert first.inner_text().strip() == expected["reasons"][0]
        folder = Path(os.environ.get("DASHBOARD_SCREENSHOTS") or tmp_path)
        folder.mkdir(parents=True, exist_ok=True)
        idle(page)
        page.screenshot(path=str(folder / "dashboard.png"))
        bad = []
        for tab in ("Why this decision", "People like this client", "What matters overall"):
            page.get_by_role("tab", name=tab).click()
            idle(page)
            if tab.startswith("People"):
                page.screenshot(path=str(folder / "dashboard-similar.png"))
            found: dict[str, Any] = Axe().run(page).response
            bad += [v for v in found["violations"] if v["impact"] in ("serious", "critical")]
        if bad:
            pytest.fail(
                "\n".join(
                    f"{v['id']}: {n['target']} {n.get('failureSummary')}"
                    for v in bad
                    for n in v["nodes"]
                )
            )
    assert (folder / "dashboard.png").stat().st_size > 10_000
    assert (folder / "dashboard-similar.png").stat().st_size > 10_000
