"""The track record in a real Chromium: the ticker page's sentence and chart, and the
/track-record page's ranking, coverage, calibration and PIT charts and biggest misses, from a
record replayed on the embedded prices (with the mock model), live forecasts kept with every
level, scored by `tickercast score`, and served by `tickercast web`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import open_page, start_web
from tests.support.procs import ServiceProcess
from tickercast.data.embedded import EmbeddedProvider
from tickercast.record import db, writes
from tickercast.record.tables import LEVELS

pytestmark = pytest.mark.browser

TIMEOUT = 20_000


@pytest.fixture(scope="module")
def web_with_a_record(
    mock_service: ServiceProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    url = f"sqlite:///{tmp_path_factory.mktemp('record') / 'record.sqlite3'}"
    days = ["--from", "2012-06-01", "--to", "2012-11-30", "--every", "10", "--mock"]
    command = [sys.executable, "-m", "tickercast", "record", "AAPL", *days]
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=120)
    store_with_levels(url)
    score = [sys.executable, "-m", "tickercast", "score"]
    subprocess.run(score, env=env, check=True, capture_output=True, timeout=120)
    yield from start_web(f"{mock_service.url}/", DATABASE_URL=url)


def store_with_levels(url: str) -> None:
    """MSFT's forecasts of 10 sessions from every 5th day of 2012's second half, kept with
    every level: the last price as the median, normal bands of 1.5% a day."""
    prices = EmbeddedProvider().history("MSFT").frame["close"]
    days = prices.loc["2012-06-01":"2012-11-30"].index[::5]
    shown = []
    for day in days:
        last = float(prices[day])
        steps = []
        for k, ds in enumerate(pd.bdate_range(day + pd.offsets.BDay(1), periods=10), start=1):
            spread = 0.015 * last * np.sqrt(k)
            levels = tuple(
                (level, last - z * spread, last + z * spread)
                for level in LEVELS
                for z in [NormalDist().inv_cdf(0.5 + level / 200)]
            )
            z80 = NormalDist().inv_cdf(0.9)
            steps.append(
                writes.Step(ds.date(), last, last - z80 * spread, last + z80 * spread, levels)
            )
        shown.append(
            writes.ShownForecast(
                "MSFT",
                "embedded",
                "live",
                day.date(),
                "calibrated",
                "fast/0.1.0",
                0.8,
                last,
                tuple(steps),
            )  # fmt: skip
        )
    engine = db.open_engine(url)
    writes.store(engine, shown)
    engine.dispose()


def test_the_ticker_page_says_how_its_forecasts_did_with_a_chart(
    page: Page, web_with_a_record: ServiceProcess
) -> None:
    page.goto(f"{web_with_a_record.url}/t/AAPL")
    page.wait_for_selector("#record-chart[data-state=drawn]", timeout=TIMEOUT)
    sentence = page.locator("#record-sentence").text_content() or ""
    assert sentence.startswith(
        "Forecasts replayed for AAPL as this page would have shown them from 2012-06-01: "
        "780 prices scored, errors "
    ), sentence
    assert "× the random walk's, the 80% band held " in sentence
    assert page.locator("#record-chart .scatterlayer .trace").count() == 2
    legend = page.locator("#record-chart .legendtext").all_text_contents()
    assert legend == ["our forecasts", "the random walk"]


def test_a_ticker_without_a_record_shows_none(
    page: Page, web_with_a_record: ServiceProcess
) -> None:
    errors: list[str] = []
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and "/api/track-record/" in msg.location.get("url", "")
            else None
        ),
    )
    page.goto(f"{web_with_a_record.url}/t/IBM")
    page.wait_for_selector("#price-chart[data-state=forecast]", timeout=TIMEOUT)
    expect(page.locator("#track-record")).to_be_hidden()
    assert errors == []  # nothing kept for IBM is an empty record, not a 404 in the console


def test_the_track_record_page_ranks_and_charts_coverage(
    page: Page, web_with_a_record: ServiceProcess
) -> None:
    page.goto(f"{web_with_a_record.url}/track-record")
    page.wait_for_selector("#coverage-chart[data-state=drawn]", timeout=TIMEOUT)
    rows = page.locator("#record-ranking tbody tr")
    cells = [rows.nth(i).locator("td").all_text_contents()[:6] for i in range(rows.count())]
    assert ["AAPL", "calibrated", "replayed", "embedded", "13", "2012-06-01"] in cells
    legend = page.locator("#coverage-chart .legendtext").all_text_contents()
    assert sorted(legend) == ["calibrated (live)", "calibrated (replayed)", "nominal"]


@pytest.mark.parametrize("width", [1280, 390])
def test_the_track_record_page_draws_calibration_pit_and_the_biggest_misses(
    browser: Browser, web_with_a_record: ServiceProcess, width: int
) -> None:
    for page in open_page(browser, width, 900):
        page.goto(f"{web_with_a_record.url}/track-record")
        page.wait_for_selector("#calibration-chart[data-state=drawn]", timeout=TIMEOUT)
        page.wait_for_selector("#pit-chart[data-state=drawn]", timeout=TIMEOUT)
        # MSFT's live forecasts: every level, each point with its 95% bar, and the diagonal.
        live = page.evaluate(
            "document.getElementById('calibration-chart').data"
            ".filter(t => t.name === 'calibrated (live)')[0]"
        )
        assert len(live["x"]) >= 5 and live["x"][:3] == [0.1, 0.2, 0.3]
        low, high = live["error_y"]["arrayminus"], live["error_y"]["array"]
        assert len(low) == len(high) == len(live["y"])
        assert all(a >= 0 and b >= 0 for a, b in zip(low, high, strict=True))
        assert sum(a + b for a, b in zip(low, high, strict=True)) > 0
        points = page.locator("#calibration-chart .scatterlayer .trace").first
        assert points.locator(".point").count() >= 5
        assert page.locator("#calibration-chart .errorbar").count() >= 5
        legend = page.locator("#calibration-chart .legendtext").all_text_contents()
        assert "calibrated" in legend
        pit = page.locator("#pit-chart .barlayer .trace")  # one a kind of record with levels
        assert pit.count() >= 1
        assert all(pit.nth(i).locator(".point").count() == 10 for i in range(pit.count()))
        rows = page.locator("#record-misses tbody tr")
        assert 1 <= rows.count() <= 10
        link = rows.first.locator("a")
        ticker = link.text_content()
        assert ticker in ("MSFT", "AAPL")  # the record's (live and replayed) forecasts
        assert (link.get_attribute("href") or "").startswith(f"/t/{ticker}?source=embedded")
        # Nothing wider than the screen, every chart inside its card.
        assert page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth") == 0
        for chart in ("#calibration-chart", "#pit-chart", "#coverage-chart"):
            inner = page.locator(f"{chart} .main-svg").first.bounding_box()
            card = page.locator(chart).bounding_box()
            assert inner is not None and card is not None
            assert inner["x"] >= card["x"] - 0.5
            assert inner["x"] + inner["width"] <= card["x"] + card["width"] + 0.5
