"""Future dates for a forecast: calendar days, weekdays, or an exchange's trading sessions."""

from __future__ import annotations

import functools
import math
import warnings

import exchange_calendars as xcals
import numpy as np
import pandas as pd

from tickercast.errors import InvalidInput

STEP_FREQS = ("D", "B")
# Codes whose rules failed to compute (some do with this pandas): refused from then on.
_broken: set[str] = set()
# Exchange calendars extend their rules to any year asked for; before this date (or a calendar's
# own first date, when it has a later one) their sessions would be invented, so they are refused.
CALENDAR_FIRST_DATE = pd.Timestamp("1990-01-01")


def step_word(freq: str | None) -> str:
    """What one step of `freq` is called in everything a person reads: a calendar day (also
    what the model infers without a `freq`), a weekday, or a trading day of an exchange."""
    if freq in (None, "D"):
        return "day"
    return "weekday" if freq == "B" else "trading day"


@functools.cache
def calendar_names() -> frozenset[str]:
    return frozenset(xcals.get_calendar_names(include_aliases=True))


def is_known_freq(freq: str) -> bool:
    return freq in STEP_FREQS or freq in calendar_names()


def infer_freq(ds: pd.DatetimeIndex) -> str:
    """`"D"` when the series has any weekend date, else `"B"` (weekday steps).

    Steps under a day (intraday data) are refused: the service forecasts days, so the caller
    must say which days with an explicit `freq`."""
    check_daily_steps(ds)
    return "D" if bool(np.any(ds.day_of_week >= 5)) else "B"


def check_daily_steps(ds: pd.DatetimeIndex) -> None:
    """Intraday data: a median step under half a day (daily data stamped at varying times of
    day, as some clients send, stays well above it)."""
    steps = np.diff(np.unique(ds.as_unit("ns").asi8).astype(float))  # float: no overflow
    if len(steps) and np.median(steps) < 43_200 * 10**9:
        median = pd.Timedelta(int(np.median(steps)), unit="ns")
        raise InvalidInput(
            f"ds has intraday steps (median {median}) but the forecast is in days: "
            "send daily data, or give freq ('D', 'B' or an exchange code) to forecast days"
        )


@functools.lru_cache(maxsize=32)
def exchange_calendar(code: str, first_year: int, last_year: int) -> xcals.ExchangeCalendar:
    # exchange-calendars only covers about 20 years back by default: ask for the years we need.
    first, last = calendar_bounds(code)
    start = max(pd.Timestamp(f"{first_year}-01-01"), first)
    end = pd.Timestamp(f"{last_year}-12-31")
    if last is not None:
        end = min(end, last)
    unavailable = InvalidInput(
        f"the exchange calendar {code!r} is not available; use 'D', 'B' or another "
        "exchange code such as 'XNYS'"
    )
    if code in _broken:
        raise unavailable
    with warnings.catch_warnings():
        # It reads tz-aware Series.values, which pandas 3.1 deprecates; nothing for us to do.
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            return xcals.get_calendar(code, start=start, end=end)
        except Exception:  # exchange-calendars' own failure, of any type: the code is unusable
            _broken.add(code)
            raise unavailable from None


def calendar_bounds(code: str) -> tuple[pd.Timestamp, pd.Timestamp | None]:
    """The first and last dates (None: no end) whose sessions calendar `code` can give."""
    dispatcher = xcals.calendar_utils.global_calendar_dispatcher
    kind = dispatcher._calendar_factories[dispatcher.resolve_alias(code)]  # its class, unbuilt
    first, last = kind.bound_min(), kind.bound_max()
    return max(CALENDAR_FIRST_DATE, first or CALENDAR_FIRST_DATE), last


def sessions_after(code: str, last: pd.Timestamp, periods: int) -> pd.DatetimeIndex:
    """The `periods` trading sessions of exchange `code` strictly after `last` (fewer when the
    calendar ends first); InvalidInput when its calendar cannot tell."""
    first_date, last_date = calendar_bounds(code)
    day = last.normalize()
    if day < first_date:
        raise InvalidInput(
            f"the {code} calendar starts on {first_date:%Y-%m-%d}, after the last date of ds; "
            "use 'B' or 'D' for earlier dates"
        )
    # One calendar per decade (building one takes a second or more), so the folds of a
    # backtest and the windows of one series share it; about 250 sessions a year, and a margin
    # beyond what the horizon needs.
    first_year = max(last.year // 10 * 10, first_date.year)
    last_year = first_year + 10 + math.ceil(periods / 240) + 1
    if last_date is not None:
        if day >= last_date:
            raise InvalidInput(f"the {code} calendar ends on {last_date:%Y-%m-%d}")
        last_year = min(last_year, last_date.year)
    sessions = exchange_calendar(code, first_year, last_year).sessions
    after = sessions[sessions > day][:periods]
    return pd.DatetimeIndex(after.tz_localize(None) if after.tz is not None else after)


def future_dates(last: pd.Timestamp, periods: int, freq: str) -> pd.DatetimeIndex:
    """The `periods` steps after `last`, as Prophet's `make_future_dataframe` makes them."""
    if freq in STEP_FREQS:
        dates = pd.date_range(start=last, periods=periods + 1, freq=freq)
        return pd.DatetimeIndex(dates[dates > last][:periods])
    return sessions_after(freq, last, periods)
