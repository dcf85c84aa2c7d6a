"""Real daily prices that work offline: the Quandl WIKI sample in `bokeh-sampledata`.

AAPL, IBM and MSFT from 2000-03-01, GOOG from 2004-08-19, FB from 2012-05-18, all to
2013-03-01, one row per NYSE session.
"""

from __future__ import annotations

import datetime as dt
import functools

import pandas as pd

from tickercast.data.base import PRICE_COLUMNS, Match, PriceHistory
from tickercast.data.frames import clip, date_span, make_frame
from tickercast.errors import NotFound

ATTRIBUTION = "Prices: Quandl WIKI end-of-day data, from the bokeh-sampledata package."
# The companies' names, for finding a ticker by name offline.
NAMES = {
    "AAPL": "Apple Inc.",
    "FB": "Facebook, Inc. (now Meta Platforms)",
    "GOOG": "Google Inc. (now Alphabet)",
    "IBM": "International Business Machines Corporation",
    "MSFT": "Microsoft Corporation",
}


@functools.cache
def _frames() -> dict[str, pd.DataFrame]:
    """Loaded once per process: the data never changes, so every worker holds the same copy."""
    from bokeh_sampledata.stocks import data

    return {
        str(ticker): make_frame(
            rows["date"].to_numpy(), {c: rows[c].to_numpy() for c in PRICE_COLUMNS}
        )
        for ticker, rows in data.groupby("ticker", sort=True)
    }


class EmbeddedProvider:
    name = "embedded"
    label = "Sample data (2000–2013)"
    attribution = ATTRIBUTION

    def tickers(self) -> list[str]:
        return list(_frames())

    def history(
        self, ticker: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> PriceHistory:
        symbol = ticker.strip().upper()
        frames = _frames()
        if symbol not in frames:
            raise NotFound(
                f"The sample data has no ticker {ticker.strip()[:20]!r}; "
                f"it has {', '.join(frames)}."
            )
        frame = clip(frames[symbol], start, end).copy()  # callers may change theirs
        if frame.empty:
            raise NotFound(f"The sample data has no prices for {symbol}{date_span(start, end)}.")
        return PriceHistory(symbol, self.name, frame, self.attribution, name=NAMES.get(symbol, ""))

    def search(self, query: str) -> list[Match]:
        """The tickers whose symbol is `query` or whose name holds all its words."""
        words = query.lower().split()
        return [
            Match(ticker, name, "NYSE/Nasdaq", "sample data")
            for ticker, name in NAMES.items()
            if words and (query.strip().upper() == ticker or all(w in name.lower() for w in words))
        ]
