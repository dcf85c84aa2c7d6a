"""The pages in a real Chromium: pick a ticker, see history, forecast and its fan of bands (the
80% band with its measured coverage in the legend), the skill chart, the method switch, change
the horizon, download the CSV, upload a CSV, too short a series explained, compare, and a clear
message when the model is down."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import choose_upload, upload_lines
from tests.support import fakes
from tests.support.procs import ServiceProcess
from tickercast.web.backtest import MASE_MEANS

pytestmark = pytest.mark.browser

TIMEOUT = 20_000


def wait_for_forecast(page: Page) -> None:
    # data-state is set when the Plotly.newPlot/react promise of the forecast chart resolves.
    page.wait_for_selector("#price-chart[data-state=forecast]", timeout=TIMEOUT)


def wait_for_backtest(page: Page) -> None:
    page.wait_for_selector("#skill-chart[data-state=drawn]", timeout=TIMEOUT)


def chart_traces(page: Page) -> int:
    return page.locator("#price-chart .scatterlayer .trace").count()


def legend(page: Page, chart: str = "#price-chart") -> list[str]:
    return page.locator(f"{chart} .legendtext").all_text_contents()


def test_pick_a_ticker_and_see_history_forecast_and_band(page: Page, web: ServiceProcess) -> None:
    page.goto(f"{web.url}/")
    page.fill("#ticker-input", "msft")
    page.click("#picker button[type=submit]")
    expect(page).to_have_url(f"{web.url}/t/MSFT")
    expect(page.locator("#name")).to_have_text("MSFT")
    wait_for_forecast(page)
    names = page.evaluate("document.getElementById('price-chart').data.map(t => t.name)")
    # History, the fan (each band's edge, then the band), forecast (and, once the backtest is
    # in, its warning).
    traces = [n for n in names if not n.startswith("⚠")]
    # (A band's name grows with what it held once the backtest is in: its start is fixed.)
    assert [traces[0], traces[1], traces[3], traces[5], traces[7]] == [
        "Price",
        "upper 95",
        "upper 80",
        "upper 50",
        "Calibrated forecast",
    ]
    assert [traces[2][:8], traces[4][:8], traces[6][:8]] == ["95% band", "80% band", "50% band"]
    assert page.locator("#price-chart .scatterlayer path.js-fill").count() == 3  # shaded
    expect(page.locator("#forecast-status")).to_contain_text(
        "Calibrated forecast for the next 60 trading days"
    )
    expect(page.locator("#forecast-table tbody tr")).to_have_count(60)
    # Today's price and where the forecast starts are marked on the chart.
    notes = page.locator("#price-chart .annotation-text").all_text_contents()
    assert any(n.startswith("last price $") for n in notes)
    assert page.locator("#price-chart", has_text="forecast starts 2013-03-01").count() == 1
    start = page.evaluate("document.getElementById('price-chart').layout.shapes[0]")
    assert (start["x0"], start["x1"], start["yref"]) == ("2013-03-01", "2013-03-01", "paper")
    # Once the backtest is in, the band's legend says what it held.
    wait_for_backtest(page)
    backtest = page.request.get(f"{web.url}/api/backtest/MSFT?periods=60").json()
    held = round(backtest["scores"]["calibrated"]["overall"]["coverage"] * 100)
    (eighty,) = [b for b in backtest["coverage"] if b["level"] == 80]
    spread = f"({eighty['low'] * 100:.0f}–{eighty['high'] * 100:.0f}%)"
    expect(page.locator("#price-chart")).to_have_attribute(
        "data-band", re.compile("held"), timeout=TIMEOUT
    )
    mase = backtest["scores"]["calibrated"]["overall"]["relative_mae"]
    assert mase > 1.05  # the mock model's MSFT: the legend says it is worse than no change
    assert sorted(legend(page)) == [
        backtest["band_labels"]["50"],
        f"80% band, held {held}% {spread} of prices in backtests",
        backtest["band_labels"]["95"],
        "Calibrated forecast",
        "Price",
        f"⚠ In backtests its errors were {mase:.2f}× the random walk's:"
        "worse than assuming no change",
    ]
    expect(page.locator("#verdict")).to_have_text(backtest["verdict"])
    expect(page.locator("#backtest-table tbody tr")).to_have_count(3)


def test_a_forecast_whose_connection_broke_is_asked_again(page: Page, web: ServiceProcess) -> None:
    """A web app killed mid-answer cuts the answer short: the page asks a GET once more."""
    asked: list[str] = []

    def break_the_first(route) -> None:  # type: ignore[no-untyped-def]
        asked.append(route.request.url)
        if len(asked) == 1:
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/api/forecast/**", break_the_first)
    page.goto(f"{web.url}/t/IBM?h=20")
    wait_for_forecast(page)
    assert len(asked) == 2 and asked[0] == asked[1]
    expect(page.locator("#forecast-table tbody tr")).to_have_count(20)


def test_the_skill_chart_by_horizon_step(page: Page, web: ServiceProcess) -> None:
    page.goto(f"{web.url}/t/AAPL?window=2y&h=10")
    wait_for_backtest(page)
    assert page.get_attribute("#skill-chart", "data-steps") == "10"
    assert sorted(legend(page, "#skill-chart")) == [
        "95% interval of coverage",
        "Calibrated forecast (MASE)",
        "Calibrated forecast band coverage",
        "nominal 80%",
        "random walk = 1",
        "random walk with drift (MASE)",
    ]
    titles = page.locator("#skill-chart .g-ytitle, #skill-chart .g-y2title").all_text_contents()
    assert titles == ["MASE (× random walk's error)", "% of prices inside the band"]
    expect(page.locator("#mase-means")).to_have_text(MASE_MEANS)
    expect(page.locator("#backtest-status")).to_have_text(
        "Backtested 10 trading days ahead at 50 past dates: 500 forecasts scored, 50 at each "
        "trading day."
    )
    expect(page.locator("#backtest-shortened")).to_be_hidden()


def test_the_method_switch_shows_plain_prophet(page: Page, web: ServiceProcess) -> None:
    page.goto(f"{web.url}/t/IBM?window=1y&h=20")
    wait_for_forecast(page)
    page.check("input[name=method][value=prophet]")
    expect(page).to_have_url(f"{web.url}/t/IBM?window=1y&h=20&chart=line&method=prophet")
    wait_for_forecast(page)
    expect(page.locator("#forecast-status")).to_contain_text("Plain Prophet forecast")
    wait_for_backtest(page)
    assert "Plain Prophet forecast" in legend(page)
    assert "Plain Prophet forecast (MASE)" in legend(page, "#skill-chart")
    expect(page.locator("#backtest-table tbody tr").first).to_contain_text("Plain Prophet")


def test_components_mean_something_for_the_series(page: Page, web: ServiceProcess) -> None:
    page.goto(f"{web.url}/t/IBM?window=1y&h=5")
    page.wait_for_selector("#components-chart[data-state=drawn]", timeout=TIMEOUT)
    forecast = page.request.get(f"{web.url}/api/forecast/IBM?periods=5").json()
    shown = forecast["components"]["shown"]
    assert page.get_attribute("#components-chart", "data-components") == ",".join(shown)
    assert "weekly" not in shown  # trading days: no weekly cycle
    notes = page.locator("#components-notes li").all_text_contents()
    assert notes[1:] == list(forecast["components"]["hidden"].values())
    titles = {"trend": "Trend (USD)", "yearly": "Yearly effect (USD)"}
    assert page.locator(
        "#components-chart .g-ytitle, #components-chart .g-y2title"
    ).all_text_contents() == [titles[key] for key in shown]


def test_change_the_horizon_and_the_chart_kind(page: Page, web: ServiceProcess) -> None:
    page.goto(f"{web.url}/t/IBM?window=1y")
    wait_for_forecast(page)
    page.fill("#horizon", "20")
    page.click("#apply")
    expect(page).to_have_url(f"{web.url}/t/IBM?window=1y&h=20&chart=line&method=calibrated")
    wait_for_forecast(page)
    expect(page.locator("#forecast-table tbody tr")).to_have_count(20)
    page.check("input[name=chart][value=candles]")
    page.wait_for_selector("#price-chart[data-chart=candles]", timeout=TIMEOUT)
    assert page.evaluate("document.getElementById('price-chart').data[0].type") == "candlestick"
    assert "chart=candles" in page.url
    # The bookmark brings back the same page.
    page.goto(page.url)
    wait_for_forecast(page)
    expect(page.locator("input[name=chart][value=candles]")).to_be_checked()
    expect(page.locator("#horizon")).to_have_value("20")
    expect(page.locator("#window")).to_have_value("1y")


def test_download_the_forecast_csv(page: Page, web: ServiceProcess) -> None:
    page.goto(f"{web.url}/t/GOOG?h=15")
    wait_for_forecast(page)
    with page.expect_download() as info:
        page.click("#download-csv")
    download = info.value
    assert download.suggested_filename == "GOOG-forecast-15.csv"
    path = download.path()
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert len(rows) == 15
    assert rows[0]["ds"] > "2013-03-01"
    assert float(rows[0]["yhat_lower"]) <= float(rows[0]["yhat"]) <= float(rows[0]["yhat_upper"])


def test_upload_a_csv(page: Page, web: ServiceProcess, tmp_path) -> None:
    lines = upload_lines()
    choose_upload(page, web, tmp_path, lines)
    page.fill("#upload-name", "My series")
    page.click("#upload-form button[type=submit]")
    expect(page.locator("#name")).to_have_text("My series")
    wait_for_forecast(page)
    expect(page.locator("#forecast-table tbody tr")).to_have_count(60)
    expect(page.locator("input[name=chart][value=candles]")).to_be_disabled()
    # New choices are applied in the page: the series was never stored on the server.
    page.fill("#horizon", "7")
    page.click("#apply")
    expect(page.locator("#forecast-table tbody tr")).to_have_count(7)
    # The range buttons only change the view: the file's 200 values all went to the model.
    page.click(".range[data-window='1m']")
    expect(page.locator("#price-chart")).to_have_attribute("data-window", "1m")
    expect(page.locator("#forecast-status")).to_contain_text("for the next 7 trading days")
    expect(page.locator("#answer")).to_contain_text("In 7 trading days (")
    with page.expect_download() as info:
        page.click("#download-csv")
    rows = list(csv.DictReader(io.StringIO(info.value.path().read_text())))
    assert len(rows) == 7


def test_too_short_a_series_shows_its_history_and_says_why(
    page: Page, web: ServiceProcess, tmp_path
) -> None:
    dates = [f"{d:%Y-%m-%d}" for d in fakes.sessions(12)]
    upload = tmp_path / "short.csv"
    upload.write_text("date,value\n" + "".join(f"{d},{10 + i}\n" for i, d in enumerate(dates)))
    page.goto(f"{web.url}/")
    page.set_input_files("#upload-file", str(upload))
    page.click("#upload-form button[type=submit]")
    status = page.locator("#forecast-status")
    expect(status).to_contain_text("No forecast for this series:", timeout=TIMEOUT)
    # The JSON API answers 400 with the same sentence.
    api = page.request.post(
        f"{web.url}/api/forecast",
        data={"ds": dates, "y": [10 + i for i in range(12)], "periods": 60},
    )
    assert api.status == 400
    assert api.json()["message"] in status.text_content()
    assert "Plain Prophet (the switch above) draws one" in status.text_content()
    assert "longer history window" not in status.text_content()  # the file has no more
    assert page.get_attribute("#price-chart", "data-state") == "history"
    assert chart_traces(page) == 1
    expect(page.locator("#backtest-status")).to_contain_text("No backtest either:")
    expect(page.locator("#table-section")).to_be_hidden()
    # Plain Prophet keeps the original contract for short series: it draws one.
    page.check("input[name=method][value=prophet]")
    wait_for_forecast(page)
    expect(page.locator("#forecast-status")).to_contain_text("Plain Prophet forecast")


def test_a_bad_upload_is_explained(page: Page, web: ServiceProcess, tmp_path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("when,value\nyesterday,1\n")
    page.goto(f"{web.url}/")
    page.set_input_files("#upload-file", str(bad))
    page.click("#upload-form button[type=submit]")
    expect(page.locator("#home-message")).to_contain_text(
        "That file could not be used: invalid input: no date column"
    )


def test_compare_tickers(page: Page, web: ServiceProcess) -> None:
    page.goto(f"{web.url}/compare?tickers=AAPL,MSFT,IBM&window=1y")
    page.wait_for_selector("#compare-chart[data-state=drawn]", timeout=TIMEOUT)
    names = page.evaluate("document.getElementById('compare-chart').data.map(t => t.name)")
    assert names[:1] == ["AAPL"] and {"MSFT", "IBM"} <= set(names)  # forecasts follow
    assert page.evaluate("document.getElementById('compare-chart').data[0].y[0]") == 100


def test_model_down_shows_history_and_says_why(
    page: Page, web_without_model: ServiceProcess
) -> None:
    page.goto(f"{web_without_model.url}/t/AAPL?h=10")
    status = page.locator("#forecast-status")
    expect(status).to_have_text(
        "No forecast right now: The forecasting service could not be reached. "
        "The price history above is still up to date.",
        timeout=TIMEOUT,
    )
    assert page.get_attribute("#price-chart", "data-state") == "history"
    assert chart_traces(page) == 1
    expect(page.locator("#backtest-status")).to_contain_text("No backtest right now")
    expect(page.locator("#table-section")).to_be_hidden()
