"""Fetched prices are kept in the shared cache until the next NYSE close has been published."""

from __future__ import annotations

import datetime as dt

import anyio
import pytest

from tests.data.recorded import AAPL_CLOSES, END, START
from tickercast.cache import SharedCache
from tickercast.data.caching import FALLBACK_TTL, seconds_until_stale
from tickercast.data.frames import dumps_frame, loads_frame
from tickercast.data.registry import Prices
from tickercast.store import Store


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("now", "stale_at"),
    [
        # During a session: after today's close (16:00 New York = 21:00 UTC) plus 2 h.
        ("2026-11-30 15:00", "2026-11-30 23:00"),
        # Just after the close the day may not be published yet: wait for it.
        ("2026-11-30 21:30", "2026-11-30 23:00"),
        # Once published: until the next session's.
        ("2026-11-30 23:30", "2026-12-01 23:00"),
        # Friday evening: over the weekend to Monday's.
        ("2026-12-04 23:30", "2026-12-07 23:00"),
        # The day after Thanksgiving closes early, at 13:00 New York (18:00 UTC).
        ("2026-11-27 15:00", "2026-11-27 20:00"),
        # New Year's Eve evening, over the holiday, into the next calendar year.
        ("2026-12-31 23:30", "2027-01-04 23:00"),
    ],
)
def test_stale_after_the_next_close_is_published(now, stale_at):
    seconds = seconds_until_stale(utc(now))
    assert utc(now) + dt.timedelta(seconds=seconds) == utc(stale_at)


def test_falls_back_when_the_calendar_cannot_answer(monkeypatch):
    def broken(now):
        raise LookupError("no calendar")

    monkeypatch.setattr("tickercast.data.caching.next_close", broken)
    assert seconds_until_stale(utc("2026-11-30 15:00")) == FALLBACK_TTL


def test_providers_ask_once_per_ticker(nasdaq, tiingo, server, shared_caches):
    for make, path in [
        (nasdaq, "/api/v3/datatables/WIKI/PRICES.json"),
        (tiingo, "/tiingo/daily/AAPL/prices"),
    ]:
        # Two workers' prices on one shared cache.
        async def twice(make=make) -> list[list[float]]:
            closes = []
            for _ in range(2):
                prices = Prices({"online": make()}, shared_caches.make())
                history = await prices.history("AAPL", None, START, END)
                closes.append(history.frame["close"].tolist())
            await shared_caches.close()
            return closes

        assert anyio.run(twice) == [AAPL_CLOSES, AAPL_CLOSES]
        assert server.count(path) == 1


def test_the_cache_entry_lives_until_stale(tiingo, server, monkeypatch):
    cache = SharedCache(Store(None), "prices", 10)
    monkeypatch.setattr("tickercast.data.registry.seconds_until_stale", lambda: 1234.0)
    seen: list[float] = []
    original = cache.set

    async def recorded(key: str, value: bytes, ttl: float) -> None:
        seen.append(ttl)
        await original(key, value, ttl)

    monkeypatch.setattr(cache, "set", recorded)
    anyio.run(Prices({"tiingo": tiingo()}, cache).history, "AAPL", None, START, END)
    assert seen == [1234.0]


def test_errors_are_not_cached(tiingo, server):
    cache = SharedCache(Store(None), "prices", 10)
    prices = Prices({"tiingo": tiingo()}, cache)
    for _ in range(2):
        with pytest.raises(Exception, match="does not know"):
            anyio.run(prices.history, "ZZZZ", "tiingo", START, END)
    assert server.count() == 2 and anyio.run(cache.count) == 0


def test_a_redis_outage_costs_a_fetch_not_a_failure(tiingo, server):
    """Redis down: the prices are fetched again, not waited for."""
    prices = Prices({"tiingo": tiingo()}, SharedCache(Store("redis://127.0.0.1:1/0"), "p", 10))
    for _ in range(2):
        history = anyio.run(prices.history, "AAPL", None, START, END)
        assert history.frame["close"].tolist() == AAPL_CLOSES
    assert server.count() == 2


def test_frames_round_trip_compactly(nasdaq):
    frame = nasdaq(table="SHARADAR/SEP").history("MSFT", START, END).frame
    frame.loc[frame.index[0], "open"] = float("nan")
    raw = dumps_frame(frame)
    assert len(raw) < 100 * len(frame)
    back = loads_frame(raw)
    assert back.equals(frame)
