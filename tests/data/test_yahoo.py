"""The Yahoo provider through yfinance's own HTTP path, against Yahoo's shapes replayed by a
local TLS server (tests/support/yahoo_replay.py): nothing of yfinance is replaced."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from tests.support.yahoo_replay import LISTINGS, YahooReplay
from tickercast.errors import NotFound, ProviderError
from tickercast.web.series import adjusted


def embedded_rows(ticker: str, first: str, last: str) -> pd.DataFrame:
    from bokeh_sampledata.stocks import data

    rows = data[(data["ticker"] == ticker) & (data["date"] >= first) & (data["date"] <= last)]
    return rows.set_index(pd.to_datetime(rows["date"])).sort_index()


def test_history_is_the_real_prices_with_what_they_are(provider, yahoo: YahooReplay):
    history = provider.history(" aapl ")
    real = embedded_rows("AAPL", "2011-03-01", "2013-03-01")
    assert history.ticker == "AAPL" and history.provider == "yahoo"
    assert (history.currency, history.calendar, history.name) == ("USD", "XNYS", "Apple Inc.")
    assert list(history.frame.index) == list(real.index)
    assert np.allclose(history.frame["close"], real["close"])
    assert np.allclose(history.frame["adj_close"], real["adj_close"])
    assert yahoo.history_requests("AAPL") == 1


def test_a_split_leaves_the_adjusted_prices_continuous(provider, yahoo: YahooReplay):
    yahoo.serve("AAPL", LISTINGS["AAPL2005"])  # AAPL's 2-for-1 split of 2005-02-28
    frame = provider.history("AAPL").frame
    real = embedded_rows("AAPL", "2004-12-01", "2005-04-29")
    before = frame.index < "2005-02-28"
    # Yahoo's close is split-adjusted: half the day's traded price before the split.
    assert np.allclose(frame["close"][before], real["close"][before] / 2, atol=1e-3)
    closes = adjusted(frame)["close"]
    assert np.allclose(closes, real["adj_close"], rtol=1e-6)
    jump = closes.pct_change().abs().max()
    assert jump < 0.1, "the split shows as a fall in price"


def test_a_dividend_scales_the_earlier_prices(provider, yahoo: YahooReplay):
    frame = provider.history("MSFT").frame  # ex-dividend 2012-11-13, 0.23 USD
    factor = frame["adj_close"] / frame["close"]
    before, after = factor.loc["2012-11-12"], factor.loc["2012-11-13"]
    assert before < after
    assert before / after == pytest.approx(1 - 0.23 / frame["close"].loc["2012-11-12"], abs=2e-3)
    assert np.allclose(adjusted(frame)["close"], frame["adj_close"])


@pytest.mark.parametrize(
    ("symbol", "currency", "calendar"), [("SAP.DE", "EUR", "XETR"), ("7203.T", "JPY", "XTKS")]
)
def test_other_exchanges_come_with_their_currency_and_calendar(
    provider, symbol, currency, calendar
):
    history = provider.history(symbol.lower())
    assert (history.ticker, history.currency, history.calendar) == (symbol, currency, calendar)
    assert history.frame.index[-1] == pd.Timestamp("2013-03-01")


def test_an_unknown_symbol_is_not_found(provider):
    with pytest.raises(NotFound, match="no prices for ZZZZ"):
        provider.history("ZZZZ")


def test_an_empty_answer_is_not_found(provider, yahoo: YahooReplay):
    yahoo.answer_empty("IBM")
    with pytest.raises(NotFound, match="no prices for IBM"):
        provider.history("IBM")


def test_rate_limiting_is_a_provider_error_with_a_wait(provider, yahoo: YahooReplay):
    yahoo.fail("MSFT", 429)
    with pytest.raises(ProviderError, match="limiting") as caught:
        provider.history("MSFT")
    assert caught.value.retry_after == 60


def test_a_silent_yahoo_times_out(provider_with, yahoo: YahooReplay):
    yahoo.stall("IBM", 30.0)  # far beyond the timeout, however late the machine notices it
    with pytest.raises(ProviderError, match="did not answer"):
        provider_with(timeout=0.5).history("IBM")


def test_a_session_still_trading_is_left_out(provider_with):
    during = dt.datetime(2013, 3, 1, 15, 0, tzinfo=dt.UTC)  # NYSE open 14:30-21:00 UTC
    frame = provider_with(now=lambda: during).history("AAPL").frame
    assert frame.index[-1] == pd.Timestamp("2013-02-28")


def test_search_finds_a_company_by_name(provider, yahoo: YahooReplay):
    # yfinance keeps each query's answer for its process: a query no other test sends.
    matches = provider.search("Apple")
    assert [m.ticker for m in matches][:2] == ["AAPL", "APLE"]
    assert matches[0].name == "Apple Inc."
    assert yahoo.count("/v1/finance/search") == 1


def test_the_library_keeps_its_files_in_our_folder(provider, yahoo_folder):
    provider.history("AAPL")
    assert any(yahoo_folder.iterdir()), "yfinance wrote its cache somewhere else"


def test_a_failure_does_not_stick(provider, yahoo: YahooReplay):
    """yfinance keeps its time-zone look-up's answer for the process, a failed one too."""
    yahoo.fail("IBM", 500)
    with pytest.raises(ProviderError):
        provider.history("IBM")
    yahoo.heal()
    assert provider.history("IBM").frame.index[-1] == pd.Timestamp("2013-03-01")
