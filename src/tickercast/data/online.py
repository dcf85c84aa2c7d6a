"""What the online providers share: no ticker list to offer, and every fetch kept in the
shared cache until the next session close, so a popular ticker costs the provider one call."""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod

import pandas as pd

from tickercast.cache import Cache
from tickercast.data.base import PriceHistory
from tickercast.data.caching import cached_frame
from tickercast.data.frames import clip, normalize_ticker


class OnlineProvider(ABC):
    name: str
    label: str
    attribution: str
    cache: Cache

    def tickers(self) -> list[str]:
        return []

    def cache_key(self, symbol: str, start: dt.date | None, end: dt.date | None) -> str:
        return f"{self.name}:{symbol}:{start}:{end}"

    def history(
        self, ticker: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> PriceHistory:
        symbol = normalize_ticker(ticker)
        key = self.cache_key(symbol, start, end)
        frame = cached_frame(self.cache, key, lambda: self._fetch(symbol, start, end))
        return PriceHistory(symbol, self.name, clip(frame, start, end), self.attribution)

    @abstractmethod
    def _fetch(self, symbol: str, start: dt.date | None, end: dt.date | None) -> pd.DataFrame:
        """The provider's prices for `symbol`, as a price frame."""
