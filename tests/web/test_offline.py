"""The web app when Yahoo cannot be reached (its proxy refuses the way out, on this machine): an
unknown symbol is a 404 that says why and what is available, on the page, in the JSON API and
in backtests alike; the sample's tickers still answer; the home page says it once."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.support.yahoo_replay import YahooReplay
from tests.web.conftest import MakeClient
from tickercast.data.embedded import EmbeddedProvider
from tickercast.data.yahoo import YahooProvider

SAID = (
    "No prices for ZZZZ: Yahoo Finance cannot be reached from this server; "
    "the tickers available here are AAPL, "
)


@pytest.fixture
def offline(make_client: MakeClient, provider: YahooProvider, yahoo: YahooReplay) -> TestClient:
    yahoo.refuse_tunnels = True
    return make_client(
        providers={"embedded": EmbeddedProvider(), "yahoo": provider}, price_time_budget=4.0
    )


def test_an_unknown_symbol_offline_is_404_saying_why(
    offline: TestClient, yahoo: YahooReplay
) -> None:
    for path in ["/api/forecast/ZZZZ", "/api/backtest/ZZZZ?periods=5"]:
        resp = offline.get(path)
        assert resp.status_code == 404 and "retry-after" not in resp.headers
        assert resp.json()["message"].startswith(SAID)
    page = offline.get("/t/ZZZZ")
    assert page.status_code == 404
    text = " ".join(page.text.split())
    assert "No prices for ZZZZ: Yahoo Finance cannot be reached from this server." in text
    assert 'href="/t/AAPL"' in text
    asked = yahoo.tunnels
    assert asked >= 1
    for symbol in ["ZZZZ", "QQQQ", "NEWCO"]:  # the state is kept: Yahoo is not asked again
        assert offline.get(f"/api/forecast/{symbol}").status_code == 404
    assert yahoo.tunnels == asked


def test_the_sample_still_answers_and_the_home_page_says_it_once(
    offline: TestClient, yahoo: YahooReplay
) -> None:
    home = offline.get("/").text  # its first load probes Yahoo
    notes = re.findall(r'id="reach-note">(.*?)</p>', home, re.S)
    assert len(notes) == 1
    assert " ".join(notes[0].split()).startswith(
        "Yahoo Finance cannot be reached from this server: the tickers below still answer"
    )
    assert "Yahoo Finance (any symbol it knows; cannot be reached from this server)" in home
    for ticker in ["AAPL", "MSFT"]:
        page = offline.get(f"/t/{ticker}")
        assert page.status_code == 200
        assert "cannot be reached" not in page.text and "did not answer" not in page.text
        api = offline.get(f"/api/forecast/{ticker}?periods=5")
        assert api.status_code == 200 and api.json()["source"] == "embedded"


def test_bad_strings_and_names_offline(offline: TestClient, yahoo: YahooReplay) -> None:
    offline.get("/t/ZZZZ")  # Yahoo's state learnt
    asked = yahoo.tunnels
    resp = offline.get("/api/forecast/" + "A" * 40)
    assert resp.status_code == 400 and resp.json()["message"]
    assert offline.get("/t/%3Cb%3E").status_code == 400
    assert yahoo.tunnels == asked  # no source asked for what cannot be a symbol
    # The picker still finds a company's name (among the sample's names).
    resp = offline.get("/go", params={"ticker": "apple"}, follow_redirects=False)
    assert (resp.status_code, resp.headers["location"]) == (303, "/t/AAPL")


def test_a_transient_failure_is_still_503(offline: TestClient, yahoo: YahooReplay) -> None:
    yahoo.refuse_tunnels = False
    yahoo.fail("NEWCO", 500)
    resp = offline.get("/api/forecast/NEWCO")
    assert resp.status_code == 503 and resp.headers["retry-after"]
    assert "did not answer" in resp.json()["message"]
