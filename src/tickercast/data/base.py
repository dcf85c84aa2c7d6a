"""What every price provider offers: a list of tickers it knows and a ticker's daily history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

import pandas as pd

# The columns of every price frame, in this order; a provider without a column fills NaN.
PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "volume", "adj_close")


@dataclass(frozen=True)
class PriceHistory:
    """One ticker's daily prices: `frame` has a naive DatetimeIndex named `date`, sorted and
    unique, and the PRICE_COLUMNS as floats; what they are in (`currency`), the exchange
    calendar their sessions follow (`calendar`, a code of `exchange_calendars`, or "D"/"B"),
    and the instrument's name when the provider says it."""

    ticker: str
    provider: str
    frame: pd.DataFrame
    attribution: str
    currency: str = "USD"
    calendar: str = "XNYS"
    name: str = ""

    @property
    def last_date(self) -> dt.date | None:
        return None if self.frame.empty else pd.Timestamp(self.frame.index[-1]).date()


@dataclass(frozen=True)
class Match:
    """One answer to a search by name or symbol."""

    ticker: str
    name: str
    exchange: str
    kind: str


class PriceProvider(Protocol):
    name: str  # short and URL-safe: "embedded", "nasdaq", "tiingo", "yahoo"
    label: str  # what the user reads

    def tickers(self) -> list[str]:
        """Tickers to offer in the picker (an online provider may know more than it lists)."""
        ...

    def history(
        self, ticker: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> PriceHistory:
        """The prices; raises errors.NotFound for an unknown ticker and
        errors.ProviderError with a sentence a user can read for anything else."""
        ...
