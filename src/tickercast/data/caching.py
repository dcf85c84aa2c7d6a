"""Fetched prices kept in a synchronous cache until the provider can have a newer day.

A daily price changes once a day: after the session closes and the provider publishes it.
So an entry lives until the next NYSE close plus the publishing delay (`exchanges`), the same
instant for every worker: one popular ticker costs each provider one call a day, whichever
worker asks.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from tickercast.cache import Cache
from tickercast.data.exchanges import US_CALENDAR, seconds_until_stale
from tickercast.data.frames import dumps_frame, loads_frame


def cached_frame(cache: Cache, key: str, fetch: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """The frame under `key`, else `fetch()`'s, stored until it may be stale."""
    raw = cache.get(key)
    if raw is not None:
        return loads_frame(raw)
    frame = fetch()
    cache.set(key, dumps_frame(frame), ttl=seconds_until_stale(US_CALENDAR))
    return frame
