"""Fetched prices kept in the shared cache until the provider can have a newer day.

A daily price changes once a day: after the NYSE session closes and the provider publishes it.
So an entry lives until the next session close plus `PUBLISH_DELAY` (the time providers take to
publish the day's prices), the same instant for every worker: one popular ticker costs each
provider one call a day, whichever worker asks.
"""

from __future__ import annotations

import datetime as dt
import logging

import pandas as pd

from tickercast import calendars

log = logging.getLogger(__name__)

PUBLISH_DELAY = dt.timedelta(hours=2)
# Used when the calendar cannot answer (beyond its years, or broken): short enough to be harmless.
FALLBACK_TTL = 3600.0


def next_close(now: pd.Timestamp) -> pd.Timestamp:
    """The first XNYS session close strictly after `now` (UTC)."""
    closes = calendars.exchange_calendar("XNYS", now.year, now.year + 1).schedule["close"]
    later = closes[closes > now]
    if later.empty:
        raise LookupError(f"no XNYS close after {now}")
    return pd.Timestamp(later.iloc[0])


def seconds_until_stale(now: dt.datetime | None = None) -> float:
    """Seconds until prices fetched at `now` may be out of date."""
    moment = pd.Timestamp(now or dt.datetime.now(dt.UTC))
    moment = moment.tz_localize("UTC") if moment.tz is None else moment.tz_convert("UTC")
    try:
        # Before the delay has passed since the last close, the new day may not be out yet.
        stale_at = next_close(moment - PUBLISH_DELAY) + PUBLISH_DELAY
    except Exception:
        log.warning("no XNYS calendar for %s; caching prices for %d s", moment, FALLBACK_TTL)
        return FALLBACK_TTL
    return max((stale_at - moment).total_seconds(), 1.0)
