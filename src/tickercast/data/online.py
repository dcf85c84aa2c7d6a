"""What the online providers share: no ticker list to offer, and a fetch over the network
(blocking: `prices.PriceBook` runs it in a worker thread and keeps what it fetched in the
shared cache until the exchange's next close, so a popular ticker costs the provider one call a
trading day)."""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod

import httpx
import pandas as pd

from tickercast.data.base import PriceHistory
from tickercast.data.frames import clip, normalize_ticker
from tickercast.data.http import reachable


class OnlineProvider(ABC):
    name: str
    label: str
    attribution: str

    url: str
    timeout: float
    client: httpx.Client

    def tickers(self) -> list[str]:
        return []

    def reachable(self) -> bool | None:
        """Whether the provider's host can be reached from here (None: not known now)."""
        return reachable(self.client, self.label, self.url, timeout=self.timeout)

    def history(
        self, ticker: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> PriceHistory:
        """Fetched now, over the network."""
        symbol = normalize_ticker(ticker)
        frame = self._fetch(symbol, start, end)
        return PriceHistory(symbol, self.name, clip(frame, start, end), self.attribution)

    @abstractmethod
    def _fetch(self, symbol: str, start: dt.date | None, end: dt.date | None) -> pd.DataFrame:
        """The provider's prices for `symbol`, as a price frame."""
