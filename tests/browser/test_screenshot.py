"""The README's screenshots, taken from the ticker page with a real Prophet forecast: at a
desktop's 1280 px and, beside it, at a phone's 390 px.

They go to a temporary folder; `make screenshot` passes `--screenshot docs/screenshot.png` to
refresh the README's pictures (the phone's is `screenshot-phone.png` beside it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import start_web
from tests.support.procs import ServiceProcess

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def web_on_prophet(model_service: ServiceProcess) -> Iterator[ServiceProcess]:
    yield from start_web(f"{model_service.url}/")


def take(page: Page, url: str, path: Path) -> None:
    page.goto(url)
    expect(page.locator("#skill-chart")).to_have_attribute("data-state", "drawn", timeout=120_000)
    expect(page.locator("#answer")).to_contain_text("past prices", timeout=60_000)
    expect(page.locator("#forecast-table tbody tr")).to_have_count(60)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
    assert path.stat().st_size > 20_000


def test_ticker_page_screenshots(
    page: Page, web_on_prophet: ServiceProcess, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    asked = request.config.getoption("--screenshot")
    desktop = Path(asked) if asked else tmp_path / "screenshot.png"
    phone = desktop.with_name(f"{desktop.stem}-phone{desktop.suffix}")
    page.set_viewport_size({"width": 1280, "height": 1000})
    take(page, f"{web_on_prophet.url}/t/AAPL", desktop)
    # With real Prophet the weekly term is in the forecast but not drawn: the note says how much.
    forecast = page.request.get(f"{web_on_prophet.url}/api/forecast/AAPL?periods=60").json()
    weekly = max(abs(r["weekly"]) for r in forecast["forecast"])
    assert weekly > 0.005
    expect(page.locator("#components-notes li").first).to_have_text(
        "The trend + yearly effect add up to the forecast's centre drawn above except for the "
        f"weekly effect left out here: at most ${weekly:.2f} on any trading day."
    )
    page.set_viewport_size({"width": 390, "height": 1300})  # the answer and the chart
    take(page, f"{web_on_prophet.url}/t/AAPL", phone)
