"""`Prices` tells its observer of every online lookup: a cache hit, or a fetch's outcome; the
web app counts them in /metrics."""

from __future__ import annotations

import anyio
import pytest

from tests.data.recorded import END, START
from tickercast.cache import SharedCache
from tickercast.data.registry import Prices
from tickercast.errors import NotFound, ProviderError
from tickercast.store import Store
from tickercast.web.metrics import WebMetrics


def test_each_lookup_is_told_hit_or_fetch_outcome(tiingo) -> None:
    events: list[tuple[str, str]] = []
    cache = SharedCache(Store(None), "prices", 10)
    prices = Prices(
        {"tiingo": tiingo()}, cache, lambda name, outcome: events.append((name, outcome))
    )
    anyio.run(prices.history, "AAPL", None, START, END)
    anyio.run(prices.history, "AAPL", None, START, END)
    with pytest.raises(NotFound):
        anyio.run(prices.history, "ZZZZ", None, START, END)
    with pytest.raises(ProviderError):
        anyio.run(prices.history, "GOOG", None, START, END)  # the recorded outage
    assert events == [
        ("tiingo", "ok"),
        ("tiingo", "cached"),
        ("tiingo", "not_found"),
        ("tiingo", "error"),
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
