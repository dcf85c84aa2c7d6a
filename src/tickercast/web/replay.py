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

import httpx
import orjson
import pandas as pd

from tickercast.contract import response_frame
from tickercast.data.base import PriceProvider
from tickercast.errors import TickercastError
from tickercast.record.store import ShownForecast, Step
from tickercast.web.forecasts import INTERVAL_WIDTH, MARKET_FREQ, TICKER_UNIT, PreparedForecast
from tickercast.web.series import DEFAULT_HORIZON, DEFAULT_WINDOW, adjusted, in_window, usable

log = logging.getLogger("tickercast.record")
MODEL_VERSION_HEADER = "X-Model-Version"


def page_series(frame: pd.DataFrame, window: str = DEFAULT_WINDOW) -> pd.Series:
    """The prices a ticker page forecasts from (adjusted, in its window, no gaps)."""
    return usable(adjusted(in_window(frame, window)))


def shown_forecast(
    ticker: str,
    source: str,
    kind: str,
    series: pd.Series,
    answer: Mapping[str, Any],
    model_version: str,
    method: str,
    window: str | None,
    interval_width: float = INTERVAL_WIDTH,
) -> ShownForecast:
    """The record's row of a forecast shown from `series` (its last price is `as_of`), given
    the model's answer as it came over the wire."""
    frame = response_frame(answer)
    steps = tuple(
        Step(pd.Timestamp(ds).date(), float(f), float(lo), float(up))
        for ds, f, lo, up in zip(
            frame["ds"], frame["yhat"], frame["yhat_lower"], frame["yhat_upper"], strict=True
        )
    )
    return ShownForecast(
        ticker=ticker,
        source=source,
        kind=kind,
        as_of=pd.Timestamp(series.index[-1]).date(),
        method=method,
        model_version=model_version,
        interval_width=interval_width,
        last_price=float(series.iloc[-1]),
        steps=steps,
        window=window,
    )


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
    client: httpx.AsyncClient,
    key: str,
    ticker: str,
    source: str,
    frame: pd.DataFrame,
    days: Sequence[int],
    method: str,
    horizon: int = DEFAULT_HORIZON,
    window: str = DEFAULT_WINDOW,
) -> list[ShownForecast]:
    """The forecasts the ticker page would have shown on each day (a position in `frame`),
    each made from the prices up to that day alone."""
    out = []
    for day in days:
        series = page_series(frame.iloc[: day + 1], window)
        prepared = PreparedForecast.of(series, horizon, MARKET_FREQ, method, TICKER_UNIT)
        resp = await client.post("/", content=orjson.dumps({**prepared.request, "key": key}))
        if resp.status_code != 200:
            log.warning(
                "record: %s on %s: the model answered %s",
                ticker,
                series.index[-1],
                resp.status_code,
            )
            continue
        version = resp.headers.get(MODEL_VERSION_HEADER, "unknown")
        out.append(
            shown_forecast(
                ticker,
                source,
                "replayed",
                series,
                orjson.loads(resp.content),
                version,
                method,
                window,
            )
        )
    return out
