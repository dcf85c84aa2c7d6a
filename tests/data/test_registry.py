"""Which providers a deployment offers, and finding a ticker among them."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tests.support.recorded import END, NASDAQ_KEY, START, TIINGO_KEY, assert_no_key
from tickercast.data import PriceHistory, build_providers, resolve
from tickercast.errors import NotFound, ProviderError
from tickercast.settings import WebSettings


def settings(**values: object) -> WebSettings:
    return WebSettings(model_api_url="http://127.0.0.1:1", model_api_key="model-key", **values)


def test_only_the_sample_without_keys():
    assert list(build_providers(settings())) == ["embedded"]


def test_every_provider_with_keys_in_order(server, client):
    providers = build_providers(
        settings(
            nasdaq_data_link_api_key=NASDAQ_KEY,
            nasdaq_data_link_table="SHARADAR/SEP",
            nasdaq_data_link_url=server.url,
            tiingo_api_key=TIINGO_KEY,
            tiingo_url=server.url,
            provider_timeout=3.5,
        ),
        client=client,
    )
    assert list(providers) == ["embedded", "nasdaq", "tiingo"]
    nasdaq, tiingo = providers["nasdaq"], providers["tiingo"]
    assert nasdaq.table == "SHARADAR/SEP" and nasdaq.timeout == 3.5
    assert nasdaq.client is client and tiingo.client is client
    assert nasdaq.history("MSFT", START, END).provider == "nasdaq"
    assert tiingo.history("AAPL", START, END).provider == "tiingo"
    for provider in providers.values():
        assert NASDAQ_KEY not in repr(provider) and TIINGO_KEY not in repr(provider)


def test_resolve_takes_the_first_that_has_it(server, client):
    providers = build_providers(
        settings(tiingo_api_key=TIINGO_KEY, tiingo_url=server.url), client=client
    )
    assert resolve(providers, "AAPL", start=START, end=END).provider == "embedded"
    assert resolve(providers, "AAPL", "tiingo", START, END).provider == "tiingo"
    assert server.count() == 1


def test_resolve_not_found_anywhere(server, client, caplog):
    caplog.set_level("DEBUG")
    providers = build_providers(
        settings(
            nasdaq_data_link_api_key=NASDAQ_KEY,
            nasdaq_data_link_url=server.url,
            tiingo_api_key=TIINGO_KEY,
            tiingo_url=server.url,
        ),
        client=client,
    )
    with pytest.raises(NotFound) as caught:
        resolve(providers, "zzzz", start=START, end=END)
    assert caught.value.message == "No price source has the ticker 'zzzz'."
    assert server.count() == 2  # Nasdaq Data Link and Tiingo were both asked
    assert_no_key(caught.value, caplog)


def test_resolve_unknown_source():
    with pytest.raises(NotFound) as caught:
        resolve(build_providers(settings()), "AAPL", "yahoo")
    assert caught.value.message == "There is no price source 'yahoo'; choose one of embedded."


class Fake:
    """A provider that has `tickers`, and fails with `error` for any other."""

    def __init__(self, name: str, tickers: list[str], error: Exception | None = None) -> None:
        self.name = self.label = name
        self._tickers = tickers
        self.error = error
        self.asked = 0

    def tickers(self) -> list[str]:
        return self._tickers

    def history(
        self, ticker: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> PriceHistory:
        self.asked += 1
        if ticker in self._tickers:
            return PriceHistory(ticker, self.name, pd.DataFrame(), "")
        raise self.error or NotFound(f"{self.name} has no {ticker}")


def test_resolve_skips_a_failing_provider():
    down = Fake("down", [], ProviderError("down did not answer"))
    up = Fake("up", ["XYZ"])
    assert resolve({"down": down, "up": up}, "XYZ").provider == "up"


def test_resolve_reports_the_failure_when_nobody_has_it():
    down = Fake("down", [], ProviderError("down did not answer"))
    empty = Fake("empty", [])
    with pytest.raises(ProviderError, match="down did not answer"):
        resolve({"empty": empty, "down": down}, "XYZ")
    assert (empty.asked, down.asked) == (1, 1)
