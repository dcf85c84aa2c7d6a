"""The README's screenshot, taken from the ticker page with a real Prophet forecast.

It goes to a temporary folder; `make screenshot` passes `--screenshot docs/screenshot.png` to
refresh the README's picture."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import start_web
from tests.procs import ServiceProcess

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def web_on_prophet(model_service: ServiceProcess) -> Iterator[ServiceProcess]:
    yield from start_web(f"{model_service.url}/")


def test_ticker_page_screenshot(
    page: Page, web_on_prophet: ServiceProcess, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    asked = request.config.getoption("--screenshot")
    screenshot = Path(asked) if asked else tmp_path / "screenshot.png"
    page.set_viewport_size({"width": 1280, "height": 1000})
    page.goto(f"{web_on_prophet.url}/t/AAPL?window=2y&h=120")
    page.wait_for_selector("#price-chart[data-state=forecast]", timeout=60_000)
    page.wait_for_selector("#skill-chart[data-state=drawn]", timeout=120_000)
    expect(page.locator("#forecast-table tbody tr")).to_have_count(120)
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screenshot))
    assert screenshot.stat().st_size > 20_000
