"""The answer at a glance, at a desktop's 1280 px and a phone's 390 px, in Chromium under the
Content-Security-Policy: the sentence at the top says what the forecast's last row and the
backtest say; nothing is clipped (a table fits or says it scrolls); the last-price label leaves
the line's last points alone; the range buttons change the visible range and no range ends in
an error; the log switch changes the axis; the chart's legend says when a method does clearly
worse than the random walk."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import open_page
from tests.support.procs import ServiceProcess

pytestmark = pytest.mark.browser

TIMEOUT = 20_000
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


@pytest.fixture(params=list(WIDTHS))
def screen(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    yield from open_page(browser, *WIDTHS[request.param])


def ready(page: Page) -> None:
    """The forecast drawn, the backtest in, and the chart redrawn with what it measured."""
    expect(page.locator("#skill-chart")).to_have_attribute("data-state", "drawn", timeout=TIMEOUT)
    expect(page.locator("#answer")).to_contain_text("past prices", timeout=TIMEOUT)
    expect(page.locator("#price-chart")).to_have_attribute(
        "data-band", re.compile("held"), timeout=TIMEOUT
    )


def page_data(page: Page) -> dict[str, Any]:
    return page.evaluate("JSON.parse(document.getElementById('page-data').textContent)")


def money(value: float) -> str:
    return f"${value:,.2f}"


def test_the_sentence_is_the_forecasts_last_row_and_the_backtests_coverage(
    screen: Page, web: ServiceProcess
) -> None:
    screen.goto(f"{web.url}/t/AAPL")
    ready(screen)
    data = page_data(screen)
    forecast = screen.request.get(web.url + data["forecast_url"]).json()
    backtest = screen.request.get(web.url + data["backtest_url"]).json()
    last = forecast["forecast"][-1]
    overall = backtest["scores"][backtest["method"]]["overall"]
    text = screen.locator("#answer").text_content() or ""
    assert text.startswith(
        f"In 60 trading days ({last['ds']}): {money(last['yhat'])}, "
        f"80% band {money(last['yhat_lower'])}–{money(last['yhat_upper'])}."
    ), text
    assert f"tested at {backtest['cutoffs']} past dates" in text
    assert f"({overall['relative_mae']:.2f}× the random walk's)" in text
    (eighty,) = [b for b in backtest["coverage"] if b["level"] == 80]
    assert eighty["sentence"] in text  # with its 95% interval
    assert eighty["sentence"].startswith(f"The 80% band held {round(overall['coverage'] * 100)}% (")
    assert f" of {overall['count']:,} past" in eighty["sentence"]
    # The answer is above the chart, where a visitor starts reading.
    answer = screen.locator("#answer").bounding_box()
    chart = screen.locator("#price-chart").bounding_box()
    assert answer and chart and answer["y"] + answer["height"] <= chart["y"]


# For every table: its width, its box's width, and whether the line saying it scrolls shows.
TABLES = """Array.from(document.querySelectorAll('table.data:not([hidden])')).map(t => {
  const box = t.closest('.scroll');
  const cue = box && box.previousElementSibling;
  const shown = cue && cue.classList.contains('scroll-cue') && !cue.hidden &&
    cue.getBoundingClientRect().height > 0;
  return {id: t.id, wide: box ? box.scrollWidth : t.scrollWidth,
          room: box ? box.clientWidth : t.parentElement.clientWidth, cue: Boolean(shown)};
})"""

# Every axis title of every chart, with the chart's box and the tick labels it could meet.
TITLES = """Array.from(document.querySelectorAll('.js-plotly-plot')).flatMap(chart => {
  const svg = chart.querySelector('.main-svg').getBoundingClientRect();
  const ticks = Array.from(chart.querySelectorAll('.xtick text, .ytick text, [class*=tick] text'))
    .map(t => t.getBoundingClientRect()).filter(r => r.width > 0);
  return Array.from(chart.querySelectorAll('.infolayer g[class^="g-"][class$="title"] text'))
    .filter(t => t.textContent).map(t => {
      const r = t.getBoundingClientRect();
      const hit = ticks.some(k => r.left < k.right && k.left < r.right && r.top < k.bottom &&
        k.top < r.bottom);
      return {chart: chart.id, text: t.textContent, left: r.left - svg.left,
              right: svg.right - r.right, top: r.top - svg.top, bottom: svg.bottom - r.bottom,
              onTicks: hit};
    });
})"""


def test_no_table_or_axis_title_is_clipped(screen: Page, web: ServiceProcess) -> None:
    screen.goto(f"{web.url}/t/AAPL?h=20")
    ready(screen)
    expect(screen.locator("#components-chart")).to_have_attribute("data-state", "drawn")
    assert screen.evaluate("document.scrollingElement.scrollWidth - window.innerWidth") == 0
    tables = screen.evaluate(TABLES)
    assert {"backtest-table", "forecast-table"} <= {t["id"] for t in tables}
    for table in tables:
        assert table["wide"] <= table["room"] or table["cue"], table
    titles = screen.evaluate(TITLES)
    charts = {t["chart"] for t in titles}
    assert {"price-chart", "skill-chart", "components-chart"} <= charts
    for title in titles:
        assert min(title["left"], title["right"], title["top"], title["bottom"]) >= -0.5, title
        assert not title["onTicks"], title


def test_a_table_wider_than_the_phone_says_it_scrolls(
    browser: Browser, web: ServiceProcess
) -> None:
    for page in open_page(browser, *WIDTHS["phone"]):
        page.goto(f"{web.url}/t/AAPL?h=20")
        ready(page)
        wide = [t for t in page.evaluate(TABLES) if t["wide"] > t["room"]]
        assert [t["id"] for t in wide] == ["backtest-table"]  # six columns do not fit 390 px
        cue = page.locator("#backtest .scroll-cue")
        expect(cue).to_be_visible()
        expect(cue).to_contain_text("swipe the table sideways")


# The last-price label's box and the pixels of the line's last 10 points, in the page.
LABEL_AND_POINTS = """(() => {
  const gd = document.getElementById('price-chart');
  const svg = gd.querySelector('.main-svg').getBoundingClientRect();
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const log = ya.type === 'log';
  const trace = gd.data[0];
  const points = [];
  for (let i = trace.x.length - 1; i >= 0 && points.length < 10; i--) {
    const v = trace.y ? trace.y[i] : trace.close[i];
    if (v === null) continue;
    points.unshift([svg.left + xa._offset + xa.l2p(xa.d2l(trace.x[i])),
                    svg.top + ya._offset + ya.l2p(log ? Math.log10(v) : v)]);
  }
  const r = gd.querySelector(".annotation[data-index='0'] .bg").getBoundingClientRect();
  const start = Array.from(gd.querySelectorAll('text'))
    .find(t => t.textContent.startsWith('forecast starts')).getBoundingClientRect();
  return {label: [r.left, r.top, r.right, r.bottom], points: points,
          text: gd.querySelector(".annotation[data-index='0']").textContent,
          start: [start.left, start.top, start.right, start.bottom],
          plot: [svg.left + xa._offset, svg.top + ya._offset,
                 svg.left + xa._offset + xa._length, svg.top + ya._offset + ya._length]};
})()"""


def covered(label: list[float], points: list[list[float]]) -> list[tuple[float, float]]:
    """Points of the line (its vertices and along each segment) inside the label's box."""
    left, top, right, bottom = label
    hits = []
    for (x0, y0), (x1, y1) in zip(points, points[1:] + points[-1:], strict=True):
        for k in range(11):
            x, y = x0 + (x1 - x0) * k / 10, y0 + (y1 - y0) * k / 10
            if left <= x <= right and top <= y <= bottom:
                hits.append((x, y))
    return hits


@pytest.mark.parametrize("ticker", ["AAPL", "MSFT", "IBM"])
def test_the_last_price_label_leaves_the_lines_last_points_alone(
    screen: Page, web: ServiceProcess, ticker: str
) -> None:
    screen.goto(f"{web.url}/t/{ticker}")
    ready(screen)
    for choice in ["1m", "6m", "max", "log"]:
        if choice == "log":
            screen.check("#log-scale")
            expect(screen.locator("#price-chart")).to_have_attribute("data-scale", "log")
        else:
            screen.click(f".range[data-window='{choice}']")
            expect(screen.locator("#price-chart")).to_have_attribute("data-window", choice)
        found = screen.evaluate(LABEL_AND_POINTS)
        assert found["text"].startswith("last price $")
        assert len(found["points"]) == 10
        assert covered(found["label"], found["points"]) == [], (ticker, choice, found)
        # The "forecast starts" label is not cut off by the plot's edges, nor under this one.
        left, top, right, bottom = found["start"]
        assert found["plot"][0] - 1 <= left and right <= found["plot"][2] + 1, (choice, found)
        label = found["label"]
        assert not (left < label[2] and label[0] < right and top < label[3] and label[1] < bottom)


def visible_start(page: Page) -> str:
    return page.evaluate("document.getElementById('price-chart').layout.xaxis.range[0]")[:10]


def test_range_buttons_change_the_visible_range_and_the_url(
    screen: Page, web: ServiceProcess
) -> None:
    screen.goto(f"{web.url}/t/AAPL")
    ready(screen)
    data = page_data(screen)
    ds = data["history"]["ds"]
    forecast_end = screen.evaluate("document.getElementById('price-chart').data[3].x.slice(-1)[0]")
    expect(screen.locator(".range[data-window='6m']")).to_have_attribute("aria-pressed", "true")
    seen = set()
    for window in ["1m", "3m", "1y", "2y", "6m"]:
        screen.click(f".range[data-window='{window}']")
        expect(screen.locator("#price-chart")).to_have_attribute("data-window", window)
        expect(screen.locator(f".range[data-window='{window}']")).to_have_attribute(
            "aria-pressed", "true"
        )
        assert screen.locator(".range[aria-pressed=true]").count() == 1
        assert f"window={window}" in screen.url
        rows = data["windows"][window]
        start = visible_start(screen)
        # The window's first price shows, and not much before it (a margin of a few days).
        assert ds[-rows - 10] < start <= ds[-rows], (window, start)
        end = screen.evaluate("document.getElementById('price-chart').layout.xaxis.range[1]")
        assert end[:10] >= forecast_end  # the whole forecast always shows
        seen.add(start)
    assert len(seen) == 5
    screen.click(".range[data-window='max']")
    expect(screen.locator("#price-chart")).to_have_attribute("data-window", "max")
    assert visible_start(screen) < ds[0]
    # Only the view changed: the same forecast, no new run.
    expect(screen.locator("#forecast-status")).to_have_attribute("data-state", "ok")
    # The bookmark opens on the same range, and Update keeps it.
    screen.goto(f"{web.url}/t/AAPL?window=1y")
    ready(screen)
    assert ds[-262] < visible_start(screen) <= ds[-252]
    screen.fill("#horizon", "20")
    screen.click("#apply")
    expect(screen).to_have_url(re.compile(r"window=1y&h=20"))


def test_at_a_phones_width_the_forecast_gets_a_fair_share(
    browser: Browser, web: ServiceProcess
) -> None:
    for page in open_page(browser, *WIDTHS["phone"]):
        page.goto(f"{web.url}/t/MSFT")
        ready(page)
        share = page.evaluate(
            """(() => {
              const gd = document.getElementById('price-chart');
              const xa = gd._fullLayout.xaxis;
              const x = gd.data[3].x;  // the forecast's centre
              return (xa.l2p(xa.d2l(x[x.length - 1])) - xa.l2p(xa.d2l(x[0]))) / xa._length;
            })()"""
        )
        assert share >= 0.25, share


def test_the_log_switch_changes_the_axis_type(screen: Page, web: ServiceProcess) -> None:
    screen.goto(f"{web.url}/t/GOOG")
    ready(screen)
    axis = "document.getElementById('price-chart').layout.yaxis.type"
    assert screen.evaluate(axis) == "linear"
    screen.check("#log-scale")
    expect(screen.locator("#price-chart")).to_have_attribute("data-scale", "log")
    assert screen.evaluate(axis) == "log"
    assert "scale=log" in screen.url
    assert screen.locator("#price-chart .g-ytitle").text_content() == "Price (USD), log scale"
    screen.goto(screen.url)  # the bookmark keeps it
    ready(screen)
    expect(screen.locator("#log-scale")).to_be_checked()
    assert screen.evaluate(axis) == "log"
    screen.uncheck("#log-scale")
    expect(screen.locator("#price-chart")).to_have_attribute("data-scale", "linear")
    assert screen.evaluate(axis) == "linear"
    assert "scale" not in screen.url


def test_no_history_choice_ends_in_an_error(page: Page, web: ServiceProcess) -> None:
    page.goto(f"{web.url}/t/AAPL")
    windows = list(page_data(page)["windows"])
    assert windows == ["1m", "3m", "6m", "1y", "2y", "5y", "max"]
    assert page.locator(".range").count() == len(windows)
    for window in windows:
        page.goto(f"{web.url}/t/AAPL?window={window}")
        ready(page)
        expect(page.locator("#forecast-status")).to_have_attribute("data-state", "ok")
        expect(page.locator("#backtest-status")).to_have_attribute("data-state", "ok")
        assert page.locator(".status.error").count() == 0
        expect(page.locator("#forecast-table tbody tr")).to_have_count(60)


def legend_warnings(page: Page) -> list[str]:
    return [t for t in page.locator("#price-chart .legendtext").all_text_contents() if "⚠" in t]


def test_the_legend_says_when_the_method_does_worse_than_the_random_walk(
    screen: Page, web: ServiceProcess
) -> None:
    screen.goto(f"{web.url}/t/MSFT")
    ready(screen)
    backtest = screen.request.get(web.url + page_data(screen)["backtest_url"]).json()
    mase = backtest["scores"][backtest["method"]]["overall"]["relative_mae"]
    assert mase > 1.05  # the mock model's straight line through five years of MSFT
    assert legend_warnings(screen) == [
        f"⚠ In backtests its errors were {mase:.2f}× the random walk's:"
        "worse than assuming no change"
    ]


def test_the_legend_says_nothing_when_the_method_beats_the_random_walk(
    screen: Page, web: ServiceProcess, tmp_path: Path
) -> None:
    # A steady trend with a little noise: the mock's straight line beats the last value.
    rows = [
        f"{d:%Y-%m-%d},{100 + 0.3 * i + (i % 5) * 0.05:.2f}"
        for i, d in enumerate(pd.bdate_range("2020-01-01", periods=400))
    ]
    upload = tmp_path / "trend.csv"
    upload.write_text("date,close\n" + "\n".join(rows) + "\n")
    screen.goto(f"{web.url}/")
    screen.set_input_files("#upload-file", str(upload))
    screen.click("#upload-form button[type=submit]")
    ready(screen)
    mase = float(screen.locator("#backtest-table tbody tr td").nth(1).inner_text())
    assert mase <= 1.05
    assert legend_warnings(screen) == []


def test_components_do_not_exaggerate_and_say_what_they_leave_out(
    page: Page, web: ServiceProcess
) -> None:
    page.goto(f"{web.url}/t/IBM?window=1y&h=5")
    expect(page.locator("#components-chart")).to_have_attribute(
        "data-state", "drawn", timeout=TIMEOUT
    )
    closes = [c for c in page_data(page)["history"]["close"] if c is not None]
    ranges = page.evaluate(
        """(() => { const l = document.getElementById('components-chart').layout;
          return Object.keys(l).filter(k => k.startsWith('yaxis')).map(k => l[k].range); })()"""
    )
    assert ranges and all(hi - lo >= 0.1 * closes[-1] for lo, hi in ranges)
    notes = page.locator("#components-notes li").all_text_contents()
    assert notes[0].startswith("The trend + yearly effect add up to the forecast's centre")


def test_compare_shows_each_forecast_with_its_mase_beside_its_line(
    screen: Page, web: ServiceProcess
) -> None:
    screen.goto(f"{web.url}/compare?tickers=AAPL,MSFT,IBM&window=1y")
    chart = screen.locator("#compare-chart")
    expect(chart).to_have_attribute("data-forecasts", "drawn", timeout=TIMEOUT)
    data = page_data(screen)
    names = screen.evaluate("document.getElementById('compare-chart').data.map(t => t.name)")
    labels = screen.locator("#compare-chart .annotation-text").all_text_contents()
    rows = screen.locator("#compare-table tbody tr")
    expect(rows).to_have_count(3)
    for i, ticker in enumerate(["AAPL", "MSFT", "IBM"]):
        forecast = screen.request.get(web.url + data["forecast_urls"][ticker]).json()
        backtest = screen.request.get(web.url + data["backtest_urls"][ticker]).json()
        mase = backtest["scores"]["calibrated"]["overall"]["relative_mae"]
        assert f"{ticker} forecast (MASE {mase:.2f})" in names
        # The forecast is on its line's scale: 100 = the window's first price.
        drawn = screen.evaluate(
            f"document.getElementById('compare-chart').data"
            f".find(t => t.name.startsWith('{ticker} forecast')).y.slice(-1)[0]"
        )
        last = forecast["forecast"][-1]
        assert drawn == pytest.approx(last["yhat"] / data["first"][ticker] * 100, abs=1e-3)
        if screen.viewport_size and screen.viewport_size["width"] >= 640:
            assert f"{ticker} · MASE {mase:.2f}" in labels  # beside the line's end
        cells = rows.nth(i).locator("td").all_text_contents()
        assert cells[0] == ticker and cells[4] == f"{mase:.2f}"
        assert cells[2] == f"{money(last['yhat'])} in 60 trading days"
    for table in screen.evaluate(TABLES):
        assert table["wide"] <= table["room"] or table["cue"], table
    assert screen.evaluate("document.scrollingElement.scrollWidth - window.innerWidth") == 0
