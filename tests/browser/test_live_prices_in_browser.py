"""Today's prices without a key, end to end: Yahoo replayed on this machine (yfinance's own HTTP
path through a local CONNECT proxy to a local TLS server), the web app as a real process, the
real model service, a real Chromium. A visitor types a company's name and gets its ticker's
prices to the replayed day, a calibrated forecast from the last price, and its backtest."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import start_web
from tests.browser.test_pages_in_browser import TIMEOUT, wait_for_backtest, wait_for_forecast
from tests.support.procs import ServiceProcess
from tests.support.yahoo_replay import LISTINGS, YahooReplay
from tickercast.data.exchanges import last_closed_session

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def replayed_day() -> str:
    day = last_closed_session("XNYS")
    assert day is not None
    return f"{day:%Y-%m-%d}"


@pytest.fixture(scope="module")
def live_web(
    _yahoo_session: YahooReplay,
    model_service: ServiceProcess,
    tmp_path_factory: pytest.TempPathFactory,
    replayed_day: str,
) -> Iterator[ServiceProcess]:
    """The web app asking Yahoo (replayed) first; AAPL's real prices moved to end on the last
    NYSE session that has closed."""
    yahoo = _yahoo_session
    yahoo.reset()
    apple = LISTINGS["AAPL"]
    yahoo.serve("AAPL", type(apple)(**{**apple.__dict__, "moved_to": replayed_day}))
    folder: Path = tmp_path_factory.mktemp("yfinance-web")
    yield from start_web(
        f"{model_service.url}/",
        YAHOO_PRICES="true",
        YAHOO_PROXY=yahoo.proxy_url,
        YAHOO_CACHE_DIR=str(folder),
        YAHOO_CA_BUNDLE=str(yahoo.ca_file),
    )
    yahoo.reset()


def test_type_a_company_s_name_and_get_today_s_forecast(
    page: Page, live_web: ServiceProcess, replayed_day: str
) -> None:
    page.goto(f"{live_web.url}/")
    expect(page.locator("#sources")).to_contain_text("Yahoo Finance")
    page.fill("#ticker-input", "apple")
    page.click("#picker button[type=submit]")
    expect(page).to_have_url(f"{live_web.url}/t/AAPL")
    expect(page.locator("#company")).to_have_text("Apple Inc.")
    summary = page.locator("#summary")
    expect(summary).to_contain_text("Yahoo Finance")
    expect(summary).to_contain_text(f"to {replayed_day}")
    expect(page.locator("#price-notes")).to_have_count(0)  # today's prices: nothing to excuse
    wait_for_forecast(page)
    chart = "document.getElementById('price-chart').data"
    last_price = page.evaluate(f"{chart}.find(t => t.name === 'Price').y.at(-1)")
    forecast = page.evaluate(f"{chart}.find(t => t.name === 'Calibrated forecast')")
    assert forecast["x"][0] > replayed_day  # the forecast starts after the last price
    assert abs(forecast["y"][0] - last_price) / last_price < 0.02  # from the last price
    wait_for_backtest(page)
    expect(page.locator("#verdict")).not_to_be_empty(timeout=TIMEOUT)
    expect(page.locator("#backtest-table tbody tr")).to_have_count(3)
