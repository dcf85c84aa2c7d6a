"""Nasdaq Data Link against recorded tables-API answers replayed on 127.0.0.1."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tests.support.recorded import AAPL_CLOSES, END, START, assert_no_key, closed_port_url
from tickercast.data.base import PRICE_COLUMNS
from tickercast.data.embedded import EmbeddedProvider
from tickercast.errors import InvalidInput, NotFound, ProviderError, SourceUnreachable

PATH = "/api/v3/datatables/WIKI/PRICES.json"


def test_prices(nasdaq, server):
    history = nasdaq().history("aapl", START, END)
    assert (history.ticker, history.provider) == ("AAPL", "nasdaq")
    assert "Nasdaq Data Link" in history.attribution and "WIKI/PRICES" in history.attribution
    frame = history.frame
    assert list(frame.columns) == list(PRICE_COLUMNS)
    assert frame.index.name == "date" and frame.index.is_monotonic_increasing
    assert frame.index[0] == dt.datetime(2013, 2, 20) and frame.index[-1] == dt.datetime(2013, 3, 1)
    assert frame["close"].tolist() == AAPL_CLOSES
    assert frame.loc["2013-03-01", "adj_close"] == pytest.approx(56.137353)
    assert server.count(PATH) == 1


def test_cursor_paging_follows_every_page(nasdaq, server):
    frame = nasdaq().history("AAPL", dt.date(2013, 1, 2), END).frame
    assert server.count(PATH) == 3
    assert [r.query.get("qopts.cursor_id") for r in server.requests] == [
        None,
        "Y3Vyc29yLTE1",
        "Y3Vyc29yLTMw",
    ]
    embedded = EmbeddedProvider().history("AAPL", dt.date(2013, 1, 2), END).frame
    pd.testing.assert_frame_equal(frame, embedded, check_freq=False, rtol=1e-6)


def test_sharadar_closeadj_becomes_adj_close(nasdaq):
    frame = nasdaq(table="SHARADAR/SEP").history("MSFT", START, END).frame
    assert frame.loc["2013-03-01", "close"] == pytest.approx(27.95)
    assert not frame["adj_close"].isna().any()
    assert list(frame.columns) == list(PRICE_COLUMNS)


@pytest.mark.parametrize(
    ("make", "ticker", "error", "message"),
    [
        (
            {"key": "revoked-nasdaq-key-9d1e07"},
            "AAPL",
            ProviderError,
            "Nasdaq Data Link did not accept this site's API key; the site's operator should "
            "check NASDAQ_DATA_LINK_API_KEY.",
        ),
        (
            {"key": "limited-nasdaq-key-3e4f55"},
            "AAPL",
            ProviderError,
            "Nasdaq Data Link's request limit for this site is used up; try again later.",
        ),
        (
            {"table": "WIKI/PRICEZ"},
            "AAPL",
            NotFound,
            "Nasdaq Data Link has no WIKI/PRICEZ prices for AAPL.",
        ),
        (
            {"table": "RETIRED/PRICES"},
            "AAPL",
            ProviderError,
            "Nasdaq Data Link no longer publishes RETIRED/PRICES; choose another source.",
        ),
        (
            {},
            "ZZZZ",
            NotFound,
            "Nasdaq Data Link has no WIKI/PRICES prices for ZZZZ from 2013-02-20 to 2013-03-01.",
        ),
        (
            {"timeout": 0.2},
            "IBM",
            ProviderError,
            "Nasdaq Data Link did not answer within 0.2 s; try again later.",
        ),
    ],
    ids=["bad-key", "limit", "unknown-code", "retired", "empty", "timeout"],
)
def test_errors(nasdaq, caplog, make, ticker, error, message):
    caplog.set_level("DEBUG")
    with pytest.raises(error) as caught:
        nasdaq(**make).history(ticker, START, END)
    assert caught.value.message == message
    assert_no_key(caught.value, caplog)


def test_limit_passes_retry_after_on(nasdaq):
    with pytest.raises(ProviderError) as caught:
        nasdaq(key="limited-nasdaq-key-3e4f55").history("AAPL", START, END)
    assert caught.value.retry_after == 600
    assert caught.value.status == 502


def test_unreachable(nasdaq, client, caplog):
    caplog.set_level("DEBUG")
    provider = nasdaq()
    provider.url = f"{closed_port_url()}/api/v3/datatables/WIKI/PRICES.json"
    with pytest.raises(ProviderError) as caught:
        provider.history("AAPL", START, END)
    assert isinstance(caught.value, SourceUnreachable)
    assert caught.value.message == "Nasdaq Data Link cannot be reached from this server"
    assert_no_key(caught.value, caplog)
    assert "test-nasdaq" not in repr(provider)


def test_key_is_hidden_in_httpx_request_log(nasdaq, caplog):
    caplog.set_level("DEBUG")
    nasdaq().history("AAPL", START, END)
    requests = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert requests and all("api_key=***" in line for line in requests)
    assert_no_key(Exception(), caplog)


@pytest.mark.parametrize("ticker", ["../AAPL", "AAPL?x=1", "", "A" * 30])
def test_odd_tickers_never_reach_the_provider(nasdaq, server, ticker):
    with pytest.raises(InvalidInput) as caught:
        nasdaq().history(ticker)
    assert caught.value.message.endswith("is not a ticker symbol")
    assert server.count() == 0
