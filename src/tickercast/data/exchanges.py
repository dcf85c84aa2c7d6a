"""Which exchange a ticker trades on, and when its next daily price can be out.

A Yahoo symbol names its market by a suffix (`SAP.DE` on Xetra, `7203.T` in Tokyo); a symbol
without one (`AAPL`, `BRK-B`, `^GSPC`) is American. Each market maps to its exchange calendar
(the codes of `exchange_calendars`), which says both the forecast's future sessions and when
the next close makes the cached prices old. Instruments that trade every day (crypto) step in
calendar days ("D"); currencies in weekdays ("B").
"""

from __future__ import annotations

import datetime as dt
import functools
import logging

import pandas as pd

from tickercast.quant import calendars

log = logging.getLogger(__name__)

US_CALENDAR = "XNYS"
# A symbol's suffix -> its exchange calendar.
SUFFIX_CALENDARS = {
    "AS": "XAMS",
    "AX": "XASX",
    "BK": "XBKK",
    "BO": "XBOM",
    "BR": "XBRU",
    "CO": "XCSE",
    "DE": "XETR",
    "F": "XFRA",
    "HE": "XHEL",
    "HK": "XHKG",
    "IR": "XDUB",
    "IS": "XIST",
    "JK": "XIDX",
    "JO": "XJSE",
    "KL": "XKLS",
    "KS": "XKRX",
    "L": "XLON",
    "LS": "XLIS",
    "MC": "XMAD",
    "MI": "XMIL",
    "MX": "XMEX",
    "NZ": "XNZE",
    "OL": "XOSL",
    "PA": "XPAR",
    "SA": "BVMF",
    "SI": "XSES",
    "SS": "XSHG",
    "ST": "XSTO",
    "SW": "XSWX",
    "T": "XTKS",
    "TA": "XTAE",
    "TO": "XTSE",
    "TW": "XTAI",
    "VI": "XWBO",
    "WA": "XWAR",
}
# Yahoo's instrument types that do not follow an exchange's sessions.
EVERY_DAY_TYPES = {"CRYPTOCURRENCY": "D", "CURRENCY": "B"}
# The time of day a calendar without sessions ("D", "B") is taken to close, in UTC.
DAY_END = dt.time(23, 59)

PUBLISH_DELAY = dt.timedelta(hours=2)  # after a close, the time a provider takes to publish it
FALLBACK_TTL = 3600.0  # seconds, when the calendar cannot say


def calendar_of(symbol: str, instrument_type: str | None = None) -> str:
    """The exchange calendar (or "D" / "B") whose sessions `symbol` trades."""
    if instrument_type in EVERY_DAY_TYPES:
        return EVERY_DAY_TYPES[instrument_type]
    if symbol.endswith("=X"):
        return "B"
    head, dot, suffix = symbol.rpartition(".")
    if dot and head:
        return SUFFIX_CALENDARS.get(suffix.upper(), US_CALENDAR)
    return US_CALENDAR


def next_close(calendar: str, now: pd.Timestamp) -> pd.Timestamp:
    """The first close of `calendar` strictly after `now` (UTC)."""
    if calendar in calendars.STEP_FREQS:
        end = pd.Timestamp.combine(now.date(), DAY_END).tz_localize("UTC")
        return end if end > now else end + pd.Timedelta(days=1)
    schedule = calendars.exchange_calendar(calendar, now.year, now.year + 1).schedule
    later = schedule["close"][schedule["close"] > now]
    if later.empty:
        raise LookupError(f"no {calendar} close after {now}")
    return pd.Timestamp(later.iloc[0])


def utc(moment: dt.datetime | pd.Timestamp | None) -> pd.Timestamp:
    stamp = pd.Timestamp(moment or dt.datetime.now(dt.UTC))
    return stamp.tz_localize("UTC") if stamp.tz is None else stamp.tz_convert("UTC")


def seconds_until_stale(calendar: str, now: dt.datetime | None = None) -> float:
    """Seconds until prices of `calendar` fetched at `now` may be out of date: the next close
    plus the time a provider takes to publish it (before that delay has passed since the last
    close, the new day may not be out yet)."""
    moment = utc(now)
    try:
        stale_at = next_close(calendar, moment - PUBLISH_DELAY) + PUBLISH_DELAY
    except Exception:
        log.warning(
            "no %s calendar for %s; caching prices for %d s", calendar, moment, FALLBACK_TTL
        )
        return FALLBACK_TTL
    return max((stale_at - moment).total_seconds(), 1.0)


def last_closed_session(calendar: str, now: dt.datetime | None = None) -> pd.Timestamp | None:
    """The date of the latest session of `calendar` that has closed by `now` (None when the
    calendar cannot say): a row after it is a session still trading. Closes fall on whole
    minutes, so the answer is worked out once a minute per calendar."""
    return _last_closed_by_minute(calendar, utc(now).floor("min"))


@functools.lru_cache(maxsize=256)
def _last_closed_by_minute(calendar: str, moment: pd.Timestamp) -> pd.Timestamp | None:
    if calendar in calendars.STEP_FREQS:
        today = pd.Timestamp(moment.date())
        return today if moment.time() >= DAY_END else today - pd.Timedelta(days=1)
    try:
        schedule = calendars.exchange_calendar(calendar, moment.year - 1, moment.year).schedule
    except Exception:
        return None
    closed = schedule.index[schedule["close"] <= moment]
    return pd.Timestamp(closed[-1]).tz_localize(None) if len(closed) else None
