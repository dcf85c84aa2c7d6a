"""Tiingo against recorded end-of-day answers replayed on 127.0.0.1."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.support.recorded import (
    AAPL_CLOSES,
    END,
    START,
    TIINGO_KEY,
    assert_no_key,
    closed_port_url,
)
from tickercast.data.base import PRICE_COLUMNS
from tickercast.errors import NotFound, ProviderError, SourceUnreachable

PATH = "/tiingo/daily/AAPL/prices"


def test_prices(tiingo, server):
    history = tiingo().history("AAPL", START, END)
    assert (history.ticker, history.provider, history.attribution) == (
        "AAPL",
        "tiingo",
        "Prices: Tiingo.",
    )
    frame = history.frame
    assert list(frame.columns) == list(PRICE_COLUMNS)
    assert frame.index.tz is None and frame.index[0] == dt.datetime(2013, 2, 20)
    assert frame["close"].tolist() == AAPL_CLOSES
    assert frame.loc["2013-03-01", "adj_close"] == pytest.approx(56.137353)  # from adjClose
    assert frame.loc["2013-03-01", "volume"] == 19730300.0
    (request,) = server.requests
    assert request.headers["authorization"] == f"Token {TIINGO_KEY}"
    assert request.query == {"startDate": "2013-02-20", "endDate": "2013-03-01", "format": "json"}


@pytest.mark.parametrize(
    ("make", "ticker", "start", "error", "message"),
    [
        (
            {"key": "revoked-tiingo-key-2c8f61"},
            "AAPL",
            START,
            ProviderError,
            "Tiingo did not accept this site's API key; the site's operator should check "
            "TIINGO_API_KEY.",
        ),
        (
            {"key": "blocked-tiingo-key-6a0b32"},
            "AAPL",
            START,
            ProviderError,
            "Tiingo did not accept this site's API key; the site's operator should check "
            "TIINGO_API_KEY.",
        ),
        (
            {"key": "limited-tiingo-key-8d7c19"},
            "AAPL",
            START,
            ProviderError,
            "Tiingo's request limit for this site is used up; try again later.",
        ),
        ({}, "ZZZZ", START, NotFound, "Tiingo does not know the ticker ZZZZ."),
        (
            {},
            "GOOG",
            START,
            ProviderError,
            "Tiingo failed (HTTP 503); try again later.",
        ),
        (
            {"timeout": 0.2},
            "IBM",
            START,
            ProviderError,
            "Tiingo did not answer within 0.2 s; try again later.",
        ),
    ],
    ids=["401", "403", "429", "unknown-ticker", "outage", "timeout"],
)
def test_errors(tiingo, caplog, make, ticker, start, error, message):
    caplog.set_level("DEBUG")
    with pytest.raises(error) as caught:
        tiingo(**make).history(ticker, start, END)
    assert caught.value.message == message
    assert_no_key(caught.value, caplog)


def test_no_prices_in_range(tiingo):
    with pytest.raises(NotFound) as caught:
        tiingo().history("FB", dt.date(2010, 1, 4), dt.date(2010, 1, 8))
    assert caught.value.message == "Tiingo has no prices for FB from 2010-01-04 to 2010-01-08."


def test_unreachable(tiingo, caplog):
    caplog.set_level("DEBUG")
    provider = tiingo()
    provider.url = closed_port_url()
    with pytest.raises(ProviderError) as caught:
        provider.history("AAPL", START, END)
    assert isinstance(caught.value, SourceUnreachable)
    assert caught.value.message == "Tiingo cannot be reached from this server"
    assert_no_key(caught.value, caplog)
    assert TIINGO_KEY not in repr(provider)
