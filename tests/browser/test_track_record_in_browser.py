"""The track record in a real Chromium: the ticker page's sentence and chart, and the
/track-record page's ranking and coverage chart, from a record replayed on the embedded prices
(with the mock model) and served by `tickercast web`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import start_web
from tests.support.procs import ServiceProcess

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
    yield from start_web(f"{mock_service.url}/", DATABASE_URL=url)


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
    page.goto(f"{web_with_a_record.url}/t/MSFT")
    page.wait_for_selector("#price-chart[data-state=forecast]", timeout=TIMEOUT)
    expect(page.locator("#track-record")).to_be_hidden()


def test_the_track_record_page_ranks_and_charts_coverage(
    page: Page, web_with_a_record: ServiceProcess
) -> None:
    page.goto(f"{web_with_a_record.url}/track-record")
    page.wait_for_selector("#coverage-chart[data-state=drawn]", timeout=TIMEOUT)
    first_row = page.locator("#record-ranking tbody tr").first.locator("td").all_text_contents()
    assert first_row[:6] == ["AAPL", "calibrated", "replayed", "embedded", "13", "2012-06-01"]
    legend = page.locator("#coverage-chart .legendtext").all_text_contents()
    assert legend == ["calibrated (replayed)", "nominal"]
