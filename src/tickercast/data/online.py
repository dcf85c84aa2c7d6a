"""What the online providers share: no ticker list to offer, and a fetch over the network
(synchronous: `Prices` runs it in a worker thread and keeps what it fetched in the shared
cache until the next session close, so a popular ticker costs the provider one call)."""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod

import pandas as pd

from tickercast.data.base import PriceHistory
from tickercast.data.frames import clip, normalize_ticker


class OnlineProvider(ABC):
    name: str
    label: str
    attribution: str

    def tickers(self) -> list[str]:
        return []

    def cache_key(self, symbol: str, start: dt.date | None, end: dt.date | None) -> str:
        return f"{self.name}:{symbol}:{start}:{end}"

    def history(
        self, ticker: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> PriceHistory:
        """Fetched now, over the network (blocking)."""
        symbol = normalize_ticker(ticker)
        return self.priced(symbol, self.fetch(symbol, start, end), start, end)

    def priced(
        self, symbol: str, frame: pd.DataFrame, start: dt.date | None, end: dt.date | None
    ) -> PriceHistory:
        """The history of `symbol` from a frame this provider fetched (now, or earlier)."""
        return PriceHistory(symbol, self.name, clip(frame, start, end), self.attribution)

    @abstractmethod
    def fetch(self, symbol: str, start: dt.date | None, end: dt.date | None) -> pd.DataFrame:
        """The provider's prices for `symbol` (normalised), as a price frame."""
