"""The pages at a phone's width (390 px), with the Content-Security-Policy on: nothing scrolls
sideways, tables stay in their cards, dates stay on one line, the chart's toolbar leaves the
legend alone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.support.procs import ServiceProcess

pytestmark = pytest.mark.browser

TIMEOUT = 20_000


def overflow(page: Page) -> int:
    """How many pixels the page is wider than the screen (0: no sideways scrolling)."""
    return int(page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth"))


def box(page: Page, selector: str) -> dict[str, float]:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, selector
    return found


def inside(inner: dict[str, float], outer: dict[str, float]) -> bool:
    return (
        inner["x"] >= outer["x"] - 0.5
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 0.5
    )


def overlap(a: dict[str, float] | None, b: dict[str, float] | None) -> bool:
    if not a or not b or not a["width"] or not b["width"]:
        return False
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def test_home_does_not_scroll_sideways(phone: Page, web: ServiceProcess) -> None:
    phone.goto(f"{web.url}/")
    phone.wait_for_selector("#upload-file")
    assert overflow(phone) == 0
    assert inside(box(phone, "#upload-file"), box(phone, "#upload"))


def test_ticker_page_fits_a_phone(phone: Page, web: ServiceProcess) -> None:
    phone.goto(f"{web.url}/t/AAPL?h=20")
    phone.wait_for_selector("#price-chart[data-state=forecast]", timeout=TIMEOUT)
    phone.wait_for_selector("#backtest-table:not([hidden])", timeout=TIMEOUT)
    phone.wait_for_selector("#forecast-table tbody tr", timeout=TIMEOUT)
    assert overflow(phone) == 0
    # The backtest table stays inside its card (it scrolls there if it must).
    assert inside(box(phone, "#backtest-table"), box(phone, "#backtest")) or (
        phone.evaluate(
            "(() => { const t = document.getElementById('backtest-table');"
            " const s = t.parentElement; return getComputedStyle(s).overflowX; })()"
        )
        in ("auto", "scroll")
    )
    # A date is one line: its cell is as tall as a one-line cell.
    heights = phone.evaluate(
        "Array.from(document.querySelectorAll('#forecast-table td:first-child, "
        "#backtest-table td:first-child')).map(td => [td.textContent, td.clientHeight])"
    )
    line = phone.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('#forecast-table td')).lineHeight)"
    )
    for text, height in heights:
        assert height < 1.8 * line, f"{text!r} wraps"
    # The chart's toolbar does not cover the legend, even when a tap shows it.
    phone.hover("#price-chart")
    assert not overlap(
        phone.locator("#price-chart .modebar").first.bounding_box(),
        phone.locator("#price-chart .legend").first.bounding_box(),
    )


def test_compare_fits_a_phone(phone: Page, web: ServiceProcess) -> None:
    phone.goto(f"{web.url}/compare?tickers=AAPL,MSFT,IBM&window=1y")
    phone.wait_for_selector("#compare-chart[data-state=drawn]", timeout=TIMEOUT)
    assert overflow(phone) == 0
    phone.hover("#compare-chart")
    assert not overlap(
        phone.locator("#compare-chart .modebar").first.bounding_box(),
        phone.locator("#compare-chart .legend").first.bounding_box(),
    )
