"""The web app on Yahoo replayed on this machine (tests/support/yahoo_replay.py) beside the embedded
sample: any symbol, names in the picker, the ticker's currency and exchange, what a page says
about old or missing prices, the unknown-ticker page."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.support import fakes
from tests.support.yahoo_replay import YahooReplay
from tests.web.conftest import MakeClient
from tickercast.data.embedded import EmbeddedProvider
from tickercast.data.yahoo import YahooProvider


@pytest.fixture
def live(make_client: MakeClient, provider: YahooProvider) -> TestClient:
    return make_client(
        providers={"embedded": EmbeddedProvider(), "yahoo": provider}, price_time_budget=2.0
    )


def test_a_foreign_ticker_in_its_currency_on_its_exchange(
    live: TestClient, fake_model: fakes.FakeModel
) -> None:
    data = live.get("/api/forecast/sap.de?periods=5&window=1y").json()
    assert (data["ticker"], data["name"], data["source"]) == ("SAP.DE", "SAP SE", "yahoo")
    assert (data["currency"], data["freq"]) == ("EUR", "XETR")
    assert data["components"]["unit"] == "EUR"
    (sent,) = fake_model.requests
    assert sent["freq"] == "XETR"  # its future steps are Xetra's sessions
    page = live.get("/t/7203.T").text
    assert "Amounts in JPY." in page and "Toyota Motor Corporation" in page
    assert "<th>Forecast (JPY)</th>" in page


def test_the_picker_takes_a_company_s_name(live: TestClient) -> None:
    for typed, target in [
        ("apple", "/t/AAPL"),
        (" Microsoft ", "/t/MSFT"),
        ("^gspc", "/t/%5EGSPC"),
    ]:
        resp = live.get("/go", params={"ticker": typed}, follow_redirects=False)
        assert (resp.status_code, resp.headers["location"]) == (303, target)


def test_an_unknown_symbol_has_a_page_of_its_own(live: TestClient) -> None:
    resp = live.get("/t/ZZZZ")
    assert resp.status_code == 404
    text = resp.text
    assert "No prices for ZZZZ." in text
    assert 'href="/t/AAPL"' in text and "TIINGO_API_KEY" in text
    assert 'id="price-chart"' not in text  # never an empty chart
    api = live.get("/api/forecast/ZZZZ")
    assert (api.status_code, api.json()) == (404, {"message": "No prices for ZZZZ."})


def test_old_prices_say_how_old(live: TestClient) -> None:
    text = live.get("/t/AAPL").text  # Yahoo's replay ends where the sample does: 2013-03-01
    assert re.search(r"Prices to 2013-03-01, 1\d years ago: Yahoo Finance\.", text)
    offline = live.get("/t/AAPL?source=embedded").text
    assert re.search(r"Prices to 2013-03-01, 1\d years ago: sample data\.", offline)


def test_a_failing_yahoo_without_earlier_prices_is_503_with_a_wait(
    live: TestClient, yahoo: YahooReplay
) -> None:
    yahoo.fail("7203.T", 429)
    api = live.get("/api/forecast/7203.T")
    assert api.status_code == 503 and api.headers["retry-after"] == "60"
    assert "Yahoo Finance did not answer" in api.json()["message"]
    page = live.get("/t/7203.T")
    assert page.status_code == 503 and "Yahoo Finance did not answer" in page.text
    # The sample still answers for its tickers, saying Yahoo did not.
    yahoo.fail("IBM", 500)
    text = live.get("/t/IBM").text
    assert "Yahoo Finance did not answer; these prices are from Sample data" in text


def test_the_home_page_says_which_sources_answer(live: TestClient, yahoo: YahooReplay) -> None:
    sources = re.compile(r'<p class="muted" id="sources">(.*?)</p>', re.S)

    def said() -> str:
        match = sources.search(live.get("/").text)
        assert match
        return match.group(1)

    assert "Yahoo Finance (any symbol it knows)" in said()
    live.get("/t/MSFT")
    assert "Yahoo Finance (any symbol it knows; answering)" in said()
    yahoo.fail("GOOG", 500)
    live.get("/t/GOOG")
    assert "Yahoo Finance (any symbol it knows; not answering lately)" in said()
    assert "Sample data (2000–2013) (5 tickers)" in said()


def test_pages_shown_are_remembered_for_refresh(
    live: TestClient, make_client: Callable[..., TestClient]
) -> None:
    from tickercast.web.refresh import default_tickers

    live.get("/t/SAP.DE")
    live.get("/t/ZZZZ")  # no prices: nothing to refresh
    forecaster = live.app.state.forecaster  # type: ignore[attr-defined]
    chosen = live.portal.call(default_tickers, forecaster, "7203.T, nvda")  # type: ignore[union-attr]
    assert chosen[:3] == ["SAP.DE", "7203.T", "NVDA"]
    assert set(chosen[3:]) == {"AAPL", "FB", "GOOG", "IBM", "MSFT"}
