"""Fetched prices are kept in the shared cache until the next close has been published."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.data.recorded import AAPL_CLOSES, END, START
from tickercast.cache import MemoryCache
from tickercast.data.exchanges import FALLBACK_TTL, seconds_until_stale
from tickercast.data.frames import dumps_frame, loads_frame


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
    seconds = seconds_until_stale("XNYS", utc(now))
    assert utc(now) + dt.timedelta(seconds=seconds) == utc(stale_at)


def test_falls_back_when_the_calendar_cannot_answer(monkeypatch):
    def broken(calendar, now):
        raise LookupError("no calendar")

    monkeypatch.setattr("tickercast.data.exchanges.next_close", broken)
    assert seconds_until_stale("XNYS", utc("2026-11-30 15:00")) == FALLBACK_TTL


def test_providers_ask_once_per_ticker(nasdaq, tiingo, server, cache):
    for make, path in [
        (nasdaq, "/api/v3/datatables/WIKI/PRICES.json"),
        (tiingo, "/tiingo/daily/AAPL/prices"),
    ]:
        # Two providers on one shared cache, as two workers would be.
        first, second = make(cache=cache), make(cache=cache)
        assert first.history("AAPL", START, END).frame["close"].tolist() == AAPL_CLOSES
        assert second.history("AAPL", START, END).frame["close"].tolist() == AAPL_CLOSES
        assert server.count(path) == 1


def test_the_cache_entry_lives_until_stale(tiingo, server, monkeypatch):
    cache = MemoryCache()
    monkeypatch.setattr("tickercast.data.caching.seconds_until_stale", lambda calendar: 1234.0)
    seen: list[float] = []
    original = cache.set
    monkeypatch.setattr(cache, "set", lambda k, v, ttl: (seen.append(ttl), original(k, v, ttl)))
    tiingo(cache=cache).history("AAPL", START, END)
    assert seen == [1234.0]


def test_errors_are_not_cached(tiingo, server):
    cache = MemoryCache()
    for _ in range(2):
        with pytest.raises(Exception, match="does not know"):
            tiingo(cache=cache).history("ZZZZ", START, END)
    assert server.count() == 2 and len(cache) == 0


def test_frames_round_trip_compactly(nasdaq):
    frame = nasdaq(table="SHARADAR/SEP").history("MSFT", START, END).frame
    frame.loc[frame.index[0], "open"] = float("nan")
    raw = dumps_frame(frame)
    assert len(raw) < 100 * len(frame)
    back = loads_frame(raw)
    assert back.equals(frame)
