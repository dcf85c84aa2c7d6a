"""The fan chart and the odds in a real Chromium, at a desk's width and a phone's (390 px),
under the Content-Security-Policy: three nested shades named in the legend, in the linear and
the log scale; the odds sentences and the odds box's answer match the chances read, here, from
the API's own quantiles by the rule the page states; nothing spills past the screen."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import choose_upload, open_page, upload_lines
from tests.support.procs import ServiceProcess

pytestmark = pytest.mark.browser

TIMEOUT = 20_000
WIDTHS = {"desk": (1280, 900), "phone": (390, 844)}


@pytest.fixture(params=list(WIDTHS))
def screen(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    yield from open_page(browser, *WIDTHS[request.param])


def chance_below(price: float, quantiles: list[dict[str, float]]) -> float | None:
    """The chance of ending below `price`: linear in log price between the two quantiles around
    it; None beyond the outermost (only a bound is known there)."""
    pairs = sorted((q["value"], q["probability"]) for q in quantiles)
    for (v0, p0), (v1, p1) in zip(pairs, pairs[1:], strict=False):
        if v0 <= price <= v1:
            return p0 + (p1 - p0) * math.log(price / v0) / math.log(v1 / v0)
    return None


def percents(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"(\d+)%", text)]


def forecast_of(page: Page, web: ServiceProcess, path: str) -> dict:
    """The page's forecast, as the JSON API answers it (the page's own URL for it)."""
    page.goto(web.url + path)
    page.wait_for_selector("#price-chart[data-state=forecast]", timeout=TIMEOUT)
    api = page.evaluate("JSON.parse(document.getElementById('page-data').textContent).forecast_url")
    return page.request.get(web.url + api).json()


def fills(page: Page) -> dict[str, float]:
    """Each shaded band's legend name and the opacity of its shade."""
    found = page.evaluate(
        "document.getElementById('price-chart').data.filter(t => t.fill === 'tonexty')"
        ".map(t => [t.name, t.fillcolor])"
    )
    return {name: float(color.rsplit(",", 1)[1].rstrip(")")) for name, color in found}


def test_three_nested_shades_named_in_the_legend(screen: Page, web: ServiceProcess) -> None:
    data = forecast_of(screen, web, "/t/AAPL?h=20")
    # Once the backtest is in, each band's name says what it held.
    screen.wait_for_selector("#price-chart[data-band*=held]", timeout=TIMEOUT)
    held = screen.request.get(web.url + "/api/backtest/AAPL?periods=20").json()["band_labels"]
    assert screen.get_attribute("#price-chart", "data-fan") == "95,80,50"
    shades = fills(screen)
    names = list(shades)
    assert names == [held["95"], held["80"], held["50"]]
    assert all(
        name.startswith(f"{level}% band, held ")
        for name, level in zip(names, (95, 80, 50), strict=True)
    )
    assert shades[names[0]] < shades[names[1]] < shades[names[2]]  # the innermost darkest
    assert screen.locator("#price-chart .scatterlayer path.js-fill").count() == 3
    legend = screen.locator("#price-chart .legendtext").all_text_contents()
    assert set(names) <= set(legend)
    # The bands drawn are the API's quantiles: the 50% band's edges at the last date.
    last = data["forecast"][-1]
    band = screen.evaluate(
        "(() => { const t = document.getElementById('price-chart').data"
        ".find(t => t.meta === 'band-50'); return [t.y[t.y.length - 1]]; })()"
    )
    assert band == [last["yhat_lower_50"]]
    # In the log scale the same three shades, on a log axis.
    screen.check("#log-scale")
    screen.wait_for_selector("#price-chart[data-scale=log]", timeout=TIMEOUT)
    assert screen.evaluate("document.getElementById('price-chart').layout.yaxis.type") == "log"
    assert screen.locator("#price-chart .scatterlayer path.js-fill").count() == 3
    assert list(fills(screen)) == names
    # Every legend entry is on the screen.
    width = screen.viewport_size["width"]  # type: ignore[index]
    for item in screen.locator("#price-chart .legend .traces").all():
        found = item.bounding_box()
        assert found is not None and found["x"] >= 0 and found["x"] + found["width"] <= width


def test_the_odds_sentences_are_the_quantiles_chances(screen: Page, web: ServiceProcess) -> None:
    data = forecast_of(screen, web, "/t/MSFT?h=20")
    quantiles, odds = data["quantiles"], data["odds"]
    assert len(quantiles) == 23
    today = data["history"][-1]["close"]
    date = data["forecast"][-1]["ds"]
    above = 1 - chance_below(today, quantiles)  # type: ignore[operator]
    lines = screen.locator("#odds-text li")
    expect(lines).to_have_count(2)
    first = lines.nth(0).text_content() or ""
    assert first.startswith(f"Chance it ends above today's ${today:,.2f} on {date}: ")
    (shown,) = percents(first.split(": ", 1)[1])
    assert abs(shown - 100 * above) <= 1
    assert ("cannot call the direction" in first) == (45 <= shown <= 55)
    second = lines.nth(1).text_content() or ""
    fall = chance_below(0.9 * today, quantiles)
    if fall is None:  # beyond the outermost quantile: only a bound
        assert second == "Chance of a fall of 10% or more: under 1%."
    else:
        (said,) = percents(second.removeprefix("Chance of a fall of 10% or more: "))
        assert abs(said - 100 * fall) <= 1
    assert odds["text"] == [first, second]


def test_the_odds_box_answers_a_typed_price(screen: Page, web: ServiceProcess) -> None:
    data = forecast_of(screen, web, "/t/IBM?h=20")
    quantiles = data["quantiles"]
    date = data["forecast"][-1]["ds"]
    price = round(quantiles[14]["value"] * 1.001, 2)  # a little above the 65% quantile
    box = screen.get_by_label(f"Price on {date}, in USD")
    expect(box).to_be_visible()
    box.fill(str(price))
    answer = screen.locator("#odds-answer")
    expect(answer).to_have_attribute("aria-live", "polite")
    expect(answer).to_have_attribute("data-state", "answered")
    text = answer.text_content() or ""
    assert text.startswith(f"Chance it ends above ${price:,.2f} on {date}: ")
    above, below = percents(text)
    expected = chance_below(price, quantiles)
    assert expected is not None
    assert abs(below - 100 * expected) <= 1 and abs(above - 100 * (1 - expected)) <= 1
    # Beyond the outermost quantile only a bound is known.
    box.fill(str(round(quantiles[-1]["value"] * 1.5, 2)))
    expect(answer).to_contain_text(": under 1%. Chance it ends below: over 99%.")
    # Nothing in the box reaches past the screen.
    width = screen.viewport_size["width"]  # type: ignore[index]
    assert screen.evaluate("document.scrollingElement.scrollWidth - window.innerWidth") == 0
    for selector in ("#odds", "#odds-price", "#odds-answer", "#odds-text"):
        found = screen.locator(selector).bounding_box()
        assert found is not None and found["x"] >= 0 and found["x"] + found["width"] <= width


def test_an_uploads_odds_name_its_last_value(page: Page, web: ServiceProcess, tmp_path) -> None:
    lines = upload_lines()
    choose_upload(page, web, tmp_path, lines)
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#price-chart[data-state=forecast]", timeout=TIMEOUT)
    assert page.get_attribute("#price-chart", "data-fan") == "95,80,50"
    last = float(lines[-1].split(",")[1])
    first = page.locator("#odds-text li").first
    expect(first).to_contain_text(f"Chance it ends above the last value ({last:.2f}) on ")
    date = (first.text_content() or "").split(" on ", 1)[1][:10]
    box = page.get_by_label(f"Value on {date}")
    box.fill(f"{last:.2f}")
    answer = page.locator("#odds-answer")
    expect(answer).to_contain_text(f"Chance it ends above {last:.2f} on {date}")
