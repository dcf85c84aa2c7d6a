"""The price book tells its observer of every online lookup: a cache hit, or a fetch's
outcome; the web app counts them in /metrics."""

from __future__ import annotations

import datetime as dt

import anyio
import pandas as pd
import pytest

from tickercast.data.embedded import EmbeddedProvider
from tickercast.data.online import OnlineProvider
from tickercast.data.prices import PriceBook
from tickercast.errors import NotFound, ProviderError
from tickercast.runtime.redis_store import Store
from tickercast.web.metrics import WebMetrics


class Flaky(OnlineProvider):
    """The embedded prices as if fetched; ZZZZ unknown, GOOG's source down."""

    name, label, attribution = "flaky", "Flaky", "Prices: made up."

    def _fetch(self, symbol: str, start: dt.date | None, end: dt.date | None) -> pd.DataFrame:
        if symbol == "GOOG":
            raise ProviderError("Flaky did not answer.")
        if symbol == "ZZZZ":
            raise NotFound("Flaky does not know ZZZZ.")
        return EmbeddedProvider().history(symbol).frame


def test_each_lookup_is_told_hit_or_fetch_outcome() -> None:
    events: list[tuple[str, str]] = []
    book = PriceBook({"flaky": Flaky()}, Store(None), observe=lambda *e: events.append(e))
    anyio.run(book.lookup, "AAPL")
    anyio.run(book.lookup, "AAPL")
    with pytest.raises(NotFound):
        anyio.run(book.lookup, "ZZZZ")
    with pytest.raises(ProviderError):
        anyio.run(book.lookup, "GOOG")
    assert events == [
        ("flaky", "ok"),
        ("flaky", "cached"),
        ("flaky", "not_found"),
        ("flaky", "error"),
    ]


def test_the_web_metrics_count_fetches_and_cache_results() -> None:
    metrics = WebMetrics()
    for outcome in ("ok", "cached", "cached", "error"):
        metrics.provider_event("nasdaq", outcome)
    text = metrics.exposition().decode()
    assert 'tickercast_web_provider_fetches_total{outcome="ok",provider="nasdaq"} 1.0' in text
    assert 'tickercast_web_provider_fetches_total{outcome="error",provider="nasdaq"} 1.0' in text
    assert 'tickercast_web_price_cache_total{provider="nasdaq",result="hit"} 2.0' in text
    assert 'tickercast_web_price_cache_total{provider="nasdaq",result="miss"} 2.0' in text
