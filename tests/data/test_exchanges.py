"""A ticker's exchange: its calendar from the symbol, its prices stale after its own close."""

from __future__ import annotations

import datetime as dt

import pytest

from tickercast.data.exchanges import calendar_of, last_closed_session, seconds_until_stale


@pytest.mark.parametrize(
    ("symbol", "kind", "calendar"),
    [
        ("AAPL", None, "XNYS"),
        ("BRK-B", None, "XNYS"),
        ("^GSPC", "INDEX", "XNYS"),
        ("SAP.DE", None, "XETR"),
        ("7203.T", None, "XTKS"),
        ("VOD.L", None, "XLON"),
        ("BRK.B", None, "XNYS"),  # a class letter, not an exchange
        ("BTC-USD", "CRYPTOCURRENCY", "D"),
        ("EURUSD=X", "CURRENCY", "B"),
    ],
)
def test_calendar_of_a_symbol(symbol, kind, calendar):
    assert calendar_of(symbol, kind) == calendar


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("calendar", "now", "stale_at"),
    [
        # Xetra closes 17:30 Berlin (16:30 UTC in winter); published two hours later.
        ("XETR", "2026-12-07 10:00", "2026-12-07 18:30"),
        ("XETR", "2026-12-04 19:00", "2026-12-07 18:30"),
        # Tokyo closes 15:30 (06:30 UTC): a New York evening is already Tokyo's next day.
        ("XTKS", "2026-12-07 23:00", "2026-12-08 08:30"),
        # Every day: midnight UTC plus the delay.
        ("D", "2026-12-05 12:00", "2026-12-06 01:59"),
    ],
)
def test_prices_are_stale_after_their_exchange_closes(calendar, now, stale_at):
    seconds = seconds_until_stale(calendar, utc(now))
    assert utc(now) + dt.timedelta(seconds=seconds) == utc(stale_at)


def test_the_last_closed_session():
    assert str(last_closed_session("XNYS", utc("2026-12-07 15:00")).date()) == "2026-12-04"
    assert str(last_closed_session("XNYS", utc("2026-12-07 21:01")).date()) == "2026-12-07"
    assert str(last_closed_session("XTKS", utc("2026-12-07 15:00")).date()) == "2026-12-07"


@pytest.mark.parametrize(
    ("moment", "closed"),
    [
        ("2026-12-04 20:59:59", "2026-12-03"),  # 15:59:59 in New York: Friday still trading
        ("2026-12-04 21:00:00", "2026-12-04"),  # the close itself
        ("2026-12-04 21:00:30", "2026-12-04"),
        ("2026-12-04 20:59:30", "2026-12-03"),  # asked again within the minute before it
    ],
)
def test_the_last_closed_session_turns_at_the_close_to_the_second(moment, closed):
    """Worked out once a minute per calendar, and still exact at the close."""
    assert str(last_closed_session("XNYS", utc(moment)).date()) == closed
