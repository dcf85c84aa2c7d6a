"""The backtest panel in a real Chromium, on a desktop's width and a phone's: each band's
coverage stated with its 95% interval, the coverage chart's interval drawn as a shade, the
analysis download linked; no script error nor Content-Security-Policy violation (open_page)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import open_page
from tests.support.procs import ServiceProcess

pytestmark = pytest.mark.browser

TIMEOUT = 20_000
HELD = re.compile(
    r"^The (50|80|95)% band held \d+% \(\d+–\d+%\) of [\d,]+ past prices at 50 dates\."
)


@pytest.fixture(params=[1280, 390], ids=["desktop", "phone"])
def screen(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    yield from open_page(browser, request.param, 900)


def test_coverage_sentences_show_their_interval_and_the_chart_its_shade(
    screen: Page, web: ServiceProcess
) -> None:
    screen.goto(f"{web.url}/t/AAPL?h=20")
    screen.wait_for_selector("#skill-chart[data-state=drawn]", timeout=TIMEOUT)
    backtest = screen.request.get(f"{web.url}/api/backtest/AAPL?periods=20").json()
    sentences = screen.locator("#backtest-coverage li").all_text_contents()
    assert sentences == [b["sentence"] for b in backtest["coverage"]]
    assert len(sentences) == 3 and all(HELD.match(s) for s in sentences)
    # The mock's bands are far too narrow: the interval misses the level, and the page says so.
    assert all("It is too narrow, by " in s for s in sentences)
    expect(screen.locator("#answer")).to_contain_text(sentences[1])
    # The shade: the 80% band's interval at each step, filled between its edges.
    assert screen.get_attribute("#skill-chart", "data-shade") == "drawn"
    shade = screen.evaluate(
        "document.getElementById('skill-chart').data"
        ".filter(t => t.fill === 'tonexty').map(t => [t.name, t.y.length])"
    )
    assert shade == [["95% interval of coverage", 20]]
    assert screen.locator("#skill-chart path.js-fill").count() >= 1
    eighty = [s["by_level"] for s in backtest["scores"]["calibrated"]["by_step"]]
    highs = screen.evaluate(
        "document.getElementById('skill-chart').data.find(t => t.fill === 'tonexty').y"
    )
    expected = [next(b["high"] for b in step if b["level"] == 80) * 100 for step in eighty]
    assert highs == pytest.approx(expected)
    href = screen.get_attribute("#download-analysis-zip", "href")
    assert href == "/api/analysis/AAPL?periods=20&method=calibrated&format=zip"
