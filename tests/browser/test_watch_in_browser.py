"""The watchlist in a real Chromium, under the Content-Security-Policy: rows of prices at
once, filled by the script (sparklines with the forecast's band), sorted by any column with the
mouse or the keyboard, tickers added and removed, the list remembered by the browser, and at a
phone's width nothing scrolls sideways but the table inside its card."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_phone import box, inside, overflow
from tests.support.procs import ServiceProcess

pytestmark = pytest.mark.browser

TIMEOUT = 20_000


def wait_filled(page: Page) -> None:
    page.wait_for_selector("#watch-table[data-filled=true]", timeout=TIMEOUT)


def order(page: Page) -> list[str]:
    return page.locator("#watch-table tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.ticker)"
    )


def last_prices(page: Page) -> list[float]:
    """The rows' last prices, in the table's order (those without one left out)."""
    texts = page.locator("#watch-table tbody .c-last").all_text_contents()
    return [float(t.split()[0].replace(",", "")) for t in texts if t.strip() != "—"]


def test_rows_fill_and_sort(page: Page, web: ServiceProcess) -> None:
    page.goto(f"{web.url}/watch?tickers=AAPL,MSFT,NOPE,IBM&h=20")
    assert order(page) == ["AAPL", "MSFT", "NOPE", "IBM"]
    nope = page.locator('#watch-table tr[data-ticker="NOPE"]')
    expect(nope.locator(".row-error")).to_contain_text("NOPE")
    wait_filled(page)
    aapl = page.locator('#watch-table tr[data-ticker="AAPL"]')
    expect(aapl.locator(".c-chance_higher")).to_have_text(re.compile(r"^\d+%$"))
    assert aapl.locator(".c-backtest_mase").inner_text()[0].isdigit()
    assert aapl.locator(".c-spark svg polygon").count() == 1  # the forecast's band
    assert aapl.locator(".c-spark svg polyline").count() == 2  # prices and the centre

    header = page.locator('#watch-table th[data-key="last"]')
    header.locator("button").click()
    expect(header).to_have_attribute("aria-sort", "ascending")
    assert order(page)[-1] == "NOPE"  # a row without the value goes last
    values = last_prices(page)
    assert len(values) == 3 and values == sorted(values)
    header.locator("button").focus()
    page.keyboard.press("Enter")  # the keyboard sorts too
    expect(header).to_have_attribute("aria-sort", "descending")
    assert order(page)[-1] == "NOPE"
    values = last_prices(page)
    assert values == sorted(values, reverse=True)
    ticker = page.locator('#watch-table th[data-key="ticker"]')
    expect(ticker).to_have_attribute("aria-sort", "none")


def test_add_remove_and_remember(page: Page, web: ServiceProcess) -> None:
    page.goto(f"{web.url}/watch?tickers=AAPL,MSFT")
    page.fill("#watch-add-input", "ibm")
    page.click("#watch-add button[type=submit]")
    page.wait_for_url("**/watch?tickers=AAPL%2CMSFT%2CIBM*")
    assert order(page) == ["AAPL", "MSFT", "IBM"]
    page.click('#watch-table button.remove[data-ticker="MSFT"]')
    page.wait_for_url("**/watch?tickers=AAPL%2CIBM*")
    assert order(page) == ["AAPL", "IBM"]
    page.goto(f"{web.url}/watch")  # no list in the address: the one this browser kept
    page.wait_for_url("**/watch?tickers=AAPL%2CIBM*")
    assert order(page) == ["AAPL", "IBM"]
    page.goto(f"{web.url}/")
    link = page.locator("#home-watch-link")
    expect(link).to_have_text("Open your watchlist")
    assert "tickers=AAPL%2CIBM" in (link.get_attribute("href") or "")


def test_home_shows_the_default_watchlist(page: Page, web: ServiceProcess) -> None:
    page.goto(f"{web.url}/")
    expect(page.locator('[data-watch-price="AAPL"]')).to_contain_text(" on 20", timeout=TIMEOUT)


@pytest.mark.parametrize("width", [1280, 390])
def test_no_sideways_scrolling(page: Page, web: ServiceProcess, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{web.url}/watch?tickers=AAPL,MSFT,GOOG,IBM,FB")
    wait_filled(page)
    assert overflow(page) == 0
    assert inside(box(page, "#watch-card .scroll"), box(page, "#watch-card"))
    assert inside(box(page, "#watch-form"), box(page, "main"))
