"""The track record's side in the web app: a page's forecast as the record keeps it, the prices
it is scored on, and replaying the site as it would have been on past days.

`tickercast record AAPL --from 2012-03-01 --to 2013-01-31 --every 5` cuts the ticker's prices
at each of those sessions, asks the model for the forecast the ticker page would have shown
with only those prices, stores it as replayed, and scores the record.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from tickercast.data.base import PriceHistory, PriceProvider
from tickercast.errors import TickercastError
from tickercast.record.writes import ShownForecast
from tickercast.web.forecasts import PreparedForecast, model_series
from tickercast.web.model_client import ModelClient
from tickercast.web.recording import shown_forecast
from tickercast.web.series import DEFAULT_WINDOW, PAGE_HORIZON, adjusted, usable

log = logging.getLogger("tickercast.record")


def price_reader(providers: Mapping[str, PriceProvider]) -> Any:
    """The scorer's prices: each ticker's adjusted closes as the pages show them today."""

    def read(ticker: str, source: str) -> pd.Series | None:
        provider = providers.get(source)
        if provider is None:
            log.warning("record: the price source %s is not enabled here", source)
            return None
        try:
            frame = provider.history(ticker).frame
        except TickercastError as exc:
            log.warning("record: no prices for %s from %s: %s", ticker, source, exc)
            return None
        return usable(adjusted(frame))

    return read


def replay_days(index: pd.DatetimeIndex, start: dt.date, end: dt.date, every: int) -> list[int]:
    """Positions of the sessions from `start` to `end`, every `every`-th one, the first on or
    after `start`."""
    days = pd.DatetimeIndex(index)
    inside = (days >= pd.Timestamp(start)) & (days <= pd.Timestamp(end))
    return [int(i) for i in inside.nonzero()[0][::every]]


async def replay(
    model: ModelClient,
    prices: PriceHistory,
    days: Sequence[int],
    method: str,
    horizon: int = PAGE_HORIZON,
    window: str = DEFAULT_WINDOW,
) -> list[ShownForecast]:
    """The forecasts the ticker page would have shown on each day (a position in its
    prices), each made from the prices up to that day alone (the page's forecast is the same
    at every window; `window` is only recorded). A day the model cannot answer is left out,
    with a warning."""
    ticker, source = prices.ticker, prices.provider
    out = []
    for day in days:
        series = model_series(prices.frame.iloc[: day + 1])
        prepared = PreparedForecast.of(series, horizon, prices.calendar, method, prices.currency)
        try:
            answer = await model.versioned_answer("forecast", prepared.request)
        except TickercastError as exc:
            log.warning("record: %s on %s: %s", ticker, series.index[-1], exc.client_message)
            continue
        data = {
            "ticker": ticker,
            "source": source,
            "window": window,
            **prepared.answer(answer.content),
        }
        out.append(shown_forecast(data, series.index[-1], prepared.last, answer, "replayed"))
    return out
