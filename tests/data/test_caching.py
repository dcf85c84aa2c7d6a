"""Fetched prices are kept in the shared cache until the next close has been published."""

from __future__ import annotations

import datetime as dt

import anyio
import pandas as pd
import pytest

from tests.support.clock import Clock, utc
from tests.support.frames import dumps_frame, loads_frame
from tests.support.recorded import AAPL_CLOSES, END, START
from tickercast.data.embedded import EmbeddedProvider
from tickercast.data.exchanges import FALLBACK_TTL, seconds_until_stale
from tickercast.data.online import OnlineProvider
from tickercast.data.prices import PriceBook
from tickercast.runtime.redis_store import Store


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
    seconds = seconds_until_stale("XNYS", utc(now))
    assert utc(now) + dt.timedelta(seconds=seconds) == utc(stale_at)


def test_falls_back_when_the_calendar_cannot_answer(monkeypatch):
    def broken(calendar, now):
        raise LookupError("no calendar")

    monkeypatch.setattr("tickercast.data.exchanges.next_close", broken)
    assert seconds_until_stale("XNYS", utc("2026-11-30 15:00")) == FALLBACK_TTL


class Counted(OnlineProvider):
    """An online provider whose fetches are counted: the embedded prices, as if fetched."""

    name, label, attribution = "counted", "Counted", "Prices: made up."

    def __init__(self) -> None:
        self.fetches = 0

    def _fetch(self, symbol: str, start: dt.date | None, end: dt.date | None) -> pd.DataFrame:
        self.fetches += 1
        return EmbeddedProvider().history(symbol).frame


def test_an_online_source_is_asked_once_per_ticker_by_all_workers(workers):
    provider = Counted()

    async def twice() -> list[list[float]]:
        closes = []
        for _ in range(2):  # two workers' price books on one shared cache
            prices = await workers.book({"counted": provider}).lookup("AAPL")
            closes.append(prices.history.frame["close"].tolist())
        await workers.close()
        return closes

    first, second = anyio.run(twice)
    assert first == second and first[-len(AAPL_CLOSES) :] == AAPL_CLOSES
    assert provider.fetches == 1


def test_the_cache_entry_lives_until_stale(monkeypatch):
    book = PriceBook({"counted": Counted()}, Store(None))
    monkeypatch.setattr("tickercast.data.prices.seconds_until_stale", lambda calendar, now: 1234.0)
    seen: list[float] = []
    original = book.cache.set

    async def recorded(key: str, value: bytes, ttl: float) -> None:
        seen.append(ttl)
        await original(key, value, ttl)

    monkeypatch.setattr(book.cache, "set", recorded)
    anyio.run(book.lookup, "AAPL")
    assert 1234.0 in seen


@pytest.mark.parametrize(
    ("ticker", "fetched", "stale_at"),
    [
        # Xetra: fetched on a Friday evening, fresh over the weekend until Monday's close
        # (17:30 in Berlin) has been published; New York's close would make it stale at once.
        ("SAP.DE", "2026-12-04 19:00", "2026-12-07 18:30"),
        # Tokyo: a New York Monday evening is Tokyo's Tuesday morning: stale once Tuesday's
        # close (15:30 in Tokyo) is out, hours before New York's.
        ("7203.T", "2026-12-07 23:00", "2026-12-08 08:30"),
        ("AAPL", "2026-12-07 15:00", "2026-12-07 23:00"),
    ],
)
def test_fetched_prices_are_kept_until_their_own_exchange_has_closed(
    provider, yahoo, ticker, fetched, stale_at
):
    """The real staleness rule, by the book's clock: a ticker is fetched again only once its
    own exchange's next close has been published (two hours after it)."""
    clock = Clock(fetched)
    book = PriceBook({"yahoo": provider}, Store(None), clock=clock)
    anyio.run(book.lookup, ticker)
    fetches = yahoo.history_requests(ticker)
    assert fetches > 0
    clock.now = utc(stale_at) - dt.timedelta(minutes=1)
    anyio.run(book.lookup, ticker)
    assert yahoo.history_requests(ticker) == fetches, "fetched again before its close was out"
    clock.now = utc(stale_at) + dt.timedelta(minutes=1)
    anyio.run(book.lookup, ticker)
    assert yahoo.history_requests(ticker) > fetches, "kept after its close was out"


def test_a_redis_outage_costs_a_fetch_per_process_not_a_failure():
    """Redis down: each process fetches the prices once and keeps them; nothing waits."""
    provider = Counted()
    workers = [PriceBook({"counted": provider}, Store("redis://127.0.0.1:1/0")) for _ in "ab"]
    for book in workers:
        for _ in range(2):
            assert anyio.run(book.lookup, "AAPL").history.provider == "counted"
    assert provider.fetches == 2


def test_frames_round_trip_compactly(nasdaq):
    frame = nasdaq(table="SHARADAR/SEP").history("MSFT", START, END).frame
    frame.loc[frame.index[0], "open"] = float("nan")
    raw = dumps_frame(frame)
    assert len(raw) < 100 * len(frame)
    back = loads_frame(raw)
    assert back.equals(frame)
