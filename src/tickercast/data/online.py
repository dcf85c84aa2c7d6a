"""What the online providers share: no ticker list to offer, and every fetch kept in the
shared cache until the next session close, so a popular ticker costs the provider one call."""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Callable

import pandas as pd

from tickercast.cache import Cache
from tickercast.data.base import PriceHistory
from tickercast.data.caching import cached_frame
from tickercast.data.frames import clip, normalize_ticker
from tickercast.errors import NotFound

# Told of every price lookup: (provider name, "cached" | "ok" | "not_found" | "error").
PriceObserver = Callable[[str, str], None]


class OnlineProvider(ABC):
    name: str
    label: str
    attribution: str
    cache: Cache
    observe: PriceObserver | None = None

    def tickers(self) -> list[str]:
        return []

    def cache_key(self, symbol: str, start: dt.date | None, end: dt.date | None) -> str:
        return f"{self.name}:{symbol}:{start}:{end}"

    def history(
        self, ticker: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> PriceHistory:
        symbol = normalize_ticker(ticker)
        key = self.cache_key(symbol, start, end)
        fetched = False

        def fetch() -> pd.DataFrame:
            nonlocal fetched
            fetched = True
            try:
                frame = self._fetch(symbol, start, end)
            except NotFound:
                self._tell("not_found")
                raise
            except Exception:
                self._tell("error")
                raise
            self._tell("ok")
            return frame

        frame = cached_frame(self.cache, key, fetch)
        if not fetched:
            self._tell("cached")
        return PriceHistory(symbol, self.name, clip(frame, start, end), self.attribution)

    def _tell(self, outcome: str) -> None:
        if self.observe is not None:
            self.observe(self.name, outcome)

    @abstractmethod
    def _fetch(self, symbol: str, start: dt.date | None, end: dt.date | None) -> pd.DataFrame:
        """The provider's prices for `symbol`, as a price frame."""
