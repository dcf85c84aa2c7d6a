"""The offline sample: real Quandl WIKI prices shipped in bokeh-sampledata."""

from __future__ import annotations

import datetime as dt

import pytest

from tickercast.data.base import PRICE_COLUMNS
from tickercast.data.embedded import EmbeddedProvider
from tickercast.errors import NotFound
from tickercast.quant import calendars

# (ticker, first session, rows, the close of 2013-03-01), as the data set holds them.
TICKERS = [
    ("AAPL", dt.date(2000, 3, 1), 3270, 430.47),
    ("FB", dt.date(2012, 5, 18), 196, 27.78),
    ("GOOG", dt.date(2004, 8, 19), 2148, 806.19),
    ("IBM", dt.date(2000, 3, 1), 3270, 202.91),
    ("MSFT", dt.date(2000, 3, 1), 3270, 27.95),
]


@pytest.fixture(scope="module")
def provider() -> EmbeddedProvider:
    return EmbeddedProvider()


def test_offers_the_five_tickers(provider):
    assert provider.tickers() == [t[0] for t in TICKERS]
    assert provider.name == "embedded"
    assert "Quandl WIKI" in provider.attribution and "bokeh-sampledata" in provider.attribution


@pytest.mark.parametrize(("ticker", "first", "rows", "last_close"), TICKERS)
def test_real_prices(provider, ticker, first, rows, last_close):
    history = provider.history(ticker)
    frame = history.frame
    assert (history.ticker, history.provider) == (ticker, "embedded")
    assert list(frame.columns) == list(PRICE_COLUMNS)
    assert all(frame[c].dtype == float for c in PRICE_COLUMNS)
    assert len(frame) == rows and frame.index.is_unique and frame.index.is_monotonic_increasing
    assert frame.index[0].date() == first and frame.index[-1].date() == dt.date(2013, 3, 1)
    assert frame["close"].iloc[-1] == pytest.approx(last_close)
    assert (frame["low"] <= frame["high"]).all() and (frame["adj_close"] > 0).all()


def test_every_date_is_an_nyse_session(provider):
    sessions = calendars.exchange_calendar("XNYS", 2000, 2013).sessions
    sessions = sessions[(sessions >= "2000-03-01") & (sessions <= "2013-03-01")]
    dates = provider.history("AAPL").frame.index
    assert dates.equals(dates.intersection(sessions))
    assert len(dates) == len(sessions)  # and none is missing
    for ticker, *_ in TICKERS:
        assert provider.history(ticker).frame.index.isin(sessions).all()


def test_start_and_end_are_inclusive(provider):
    frame = provider.history("msft", dt.date(2013, 2, 20), dt.date(2013, 3, 1)).frame
    assert [d.date() for d in frame.index[[0, -1]]] == [dt.date(2013, 2, 20), dt.date(2013, 3, 1)]
    assert len(frame) == 8


def test_callers_cannot_change_the_shared_copy(provider):
    mine = provider.history("IBM").frame
    mine.loc[:, "close"] = 0.0
    assert provider.history("IBM").frame["close"].iloc[-1] == pytest.approx(202.91)


@pytest.mark.parametrize(
    ("ticker", "start", "message"),
    [
        ("TSLA", None, "The sample data has no ticker 'TSLA'; it has AAPL, FB, GOOG, IBM, MSFT."),
        (
            "FB",
            dt.date(2020, 1, 1),
            "The sample data has no prices for FB from 2020-01-01.",
        ),
    ],
)
def test_not_found(provider, ticker, start, message):
    with pytest.raises(NotFound) as caught:
        provider.history(ticker, start)
    assert caught.value.message == message and caught.value.status == 404
