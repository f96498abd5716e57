"""A live dashboard and a Chromium page on it (shared by the browser test and
``make bench-dashboard``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tabship.dashboard.launch import start
from tests.integration.conftest import free_port, wait_until

CHROMIUM = "/usr/bin/chromium"  # Debian's; Playwright never downloads a browser here
PICKER = "Or pick a known client"


@contextmanager
def dashboard(api_url: str, seconds: float = 60) -> Iterator[str]:
    """``tabship dashboard`` (Streamlit) reading ``api_url``; yields its URL."""
    port = free_port()
    process = start("127.0.0.1", port, api_url)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(f"{url}/_stcore/health", process, seconds)
        yield url
    finally:
        process.terminate()
        process.wait(30)


@contextmanager
def open_page(url: str, height: int = 900) -> Iterator[Any]:
    """A headless Chromium page on ``url``, once the dashboard has rendered."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": height})
            page.goto(url)
            page.get_by_role("combobox", name=PICKER).wait_for(timeout=60_000)
            yield page
        finally:
            browser.close()


def offered(page: Any) -> list[str]:
    """Open the known clients' list; the ids it shows first (the list renders lazily)."""
    page.get_by_role("combobox", name=PICKER).click()
    options = page.get_by_role("option")
    options.first.wait_for()
    shown = [o.strip() for o in options.all_inner_texts()]
    page.keyboard.press("Escape")
    return shown


def pick_client(page: Any, client: str) -> None:
    """Pick ``client`` from the known clients' list, as an officer does: type, choose."""
    picker = page.get_by_role("combobox", name=PICKER)
    picker.click()
    picker.fill(client)
    page.get_by_role("option", name=client, exact=True).click()


def idle(page: Any) -> None:
    """Until the app has finished its run and drawn its visible charts (a client's page
    has at least one)."""
    page.wait_for_function(
        "!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=30_000
    )
    page.wait_for_function(
        "(() => { const shown = [...document.querySelectorAll("
        "'[data-testid=\"stVegaLiteChart\"]')].filter(c => c.offsetParent !== null);"
        " return shown.length > 0 && shown.every(c => c.querySelector('canvas, svg')); })()",
        timeout=30_000,
    )
