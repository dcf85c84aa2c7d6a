"""Future dates for a forecast: calendar days, weekdays, or an exchange's trading sessions."""

from __future__ import annotations

import functools
import math
import warnings

import exchange_calendars as xcals
import numpy as np
import pandas as pd

STEP_FREQS = ("D", "B")


@functools.cache
def calendar_names() -> frozenset[str]:
    return frozenset(xcals.get_calendar_names(include_aliases=True))


def is_known_freq(freq: str) -> bool:
    return freq in STEP_FREQS or freq in calendar_names()


def infer_freq(ds: pd.DatetimeIndex) -> str:
    """`"D"` when the series has any weekend date, else `"B"` (weekday steps)."""
    return "D" if bool(np.any(ds.day_of_week >= 5)) else "B"


@functools.lru_cache(maxsize=32)
def exchange_calendar(code: str, first_year: int, last_year: int) -> xcals.ExchangeCalendar:
    # exchange-calendars only covers about 20 years back by default: ask for the years we need.
    with warnings.catch_warnings():
        # It reads tz-aware Series.values, which pandas 3.1 deprecates; nothing for us to do.
        warnings.simplefilter("ignore", DeprecationWarning)
        return xcals.get_calendar(code, start=f"{first_year}-01-01", end=f"{last_year}-12-31")


def sessions_after(code: str, last: pd.Timestamp, periods: int) -> pd.DatetimeIndex:
    """The `periods` trading sessions of exchange `code` strictly after `last`."""
    # One calendar per decade (building one takes a second or more), so the folds of a
    # backtest and the windows of one series share it; about 250 sessions a year, and a margin
    # beyond what the horizon needs.
    first_year = last.year // 10 * 10
    last_year = first_year + 10 + math.ceil(periods / 240) + 1
    sessions = exchange_calendar(code, first_year, last_year).sessions
    after = sessions[sessions > last.normalize()][:periods]
    return pd.DatetimeIndex(after.tz_localize(None) if after.tz is not None else after)


def future_dates(last: pd.Timestamp, periods: int, freq: str) -> pd.DatetimeIndex:
    """The `periods` steps after `last`, as Prophet's `make_future_dataframe` makes them."""
    if freq in STEP_FREQS:
        dates = pd.date_range(start=last, periods=periods + 1, freq=freq)
        return pd.DatetimeIndex(dates[dates > last][:periods])
    return sessions_after(freq, last, periods)
