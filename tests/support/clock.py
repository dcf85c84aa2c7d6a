"""A clock the test moves: what a `PriceBook` (or anything taking `clock=`) reads as now."""

from __future__ import annotations

import datetime as dt


def utc(text: str) -> dt.datetime:
    """`"2026-12-07 18:30"` as an aware UTC datetime."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


class Clock:
    """Now is `now` until the test sets it (`clock.now += dt.timedelta(hours=1)`)."""

    def __init__(self, now: str) -> None:
        self.now = utc(now)

    def __call__(self) -> dt.datetime:
        return self.now
