"""The web app's use cases: prices from the providers, forecasts and backtests from the model.

Routes call these and turn the results into pages or JSON; nothing here knows about HTTP.

Every model answer goes through one cache shared by the workers and replicas (`AnswerCache`:
Redis, or this process), keyed by a digest of the request itself (the series, periods, step,
interval width and any other field), never by the URL that asked: new prices are a new key, and
two pages that need the same forecast share it. Async code awaits `answer`; the sync use cases
(run by the routes in worker threads) reach it through the event loop.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import anyio.from_thread
import anyio.to_thread
import numpy as np
import orjson
import pandas as pd

from tickercast.cache import AnswerCache
from tickercast.contract import Limits, iso_dates, parse_request, response_frame
from tickercast.data.base import PriceHistory, PriceProvider
from tickercast.data.registry import resolve
from tickercast.errors import InvalidInput, TickercastError
from tickercast.web import backtest
from tickercast.web.metrics import WebMetrics
from tickercast.web.model_client import ModelClient, forecast_request
from tickercast.web.series import (
    MAX_HORIZON,
    Choices,
    adjusted,
    answer_rows,
    forecast_rows,
    guess_freq,
    history_rows,
    in_window,
    usable,
)

INTERVAL_WIDTH = 0.8
MARKET_FREQ = "XNYS"  # provider prices are NYSE sessions, so the future is too
ANSWERS_NAMESPACE = "tickercast:model-answers"
ANSWERS_VERSION = "1"  # part of every key: change it when the cached bytes' meaning changes


PREPARED_MAX_ITEMS = 256


def frame_digest(frame: pd.DataFrame) -> str:
    """A digest of a price frame's dates, column names and values."""
    digest = hashlib.sha256(pd.DatetimeIndex(frame.index).to_numpy().tobytes())
    for name in frame.columns:
        digest.update(str(name).encode())
        digest.update(np.ascontiguousarray(frame[name].to_numpy(dtype=float)).tobytes())
    return digest.hexdigest()


def answer_key(request: Mapping[str, Any]) -> str:
    """The cache key of the model's answer to `request` (a body without the key)."""
    digest = hashlib.sha256(orjson.dumps(request, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return f"v{ANSWERS_VERSION}:{digest}"


class Forecaster:
    def __init__(
        self,
        providers: Mapping[str, PriceProvider],
        model: ModelClient,
        metrics: WebMetrics,
        answers: AnswerCache,
        answer_ttl: float,
        max_rows: int = 20_000,
    ) -> None:
        self.providers = providers
        self.model = model
        self.metrics = metrics
        self.answers = answers
        self.answer_ttl = answer_ttl
        self.max_rows = max_rows
        # The JSON API's history part and model request of recent windows of prices, by the
        # digest of those prices: a miss makes the same again.
        self._prepared: OrderedDict[tuple[object, ...], tuple[dict[str, Any], dict[str, Any]]]
        self._prepared = OrderedDict()
        self._prepared_lock = threading.Lock()  # the routes call from several threads

    def tickers(self) -> list[dict[str, str]]:
        """Every ticker any provider offers, for the picker."""
        out = []
        for name, provider in self.providers.items():
            for ticker in provider.tickers():
                out.append({"ticker": ticker, "source": name, "label": provider.label})
        return out

    def history(self, ticker: str, source: str | None = None) -> PriceHistory:
        return resolve(dict(self.providers), ticker, source or None)

    def window(
        self, ticker: str, source: str | None, window: str
    ) -> tuple[PriceHistory, pd.DataFrame]:
        """The ticker's prices (adjusted) in the chosen window."""
        prices = self.history(ticker, source)
        return prices, adjusted(in_window(prices.frame, window))  # row by row: window first

    async def answer(self, request: Mapping[str, Any]) -> bytes:
        """The model's answer to `request`: cached, else asked of the model (in a thread)."""
        key = answer_key(request)
        raw = await self.answers.get(key) if self.answer_ttl else None
        self.metrics.answers.labels("miss" if raw is None else "hit").inc()
        if raw is None:
            raw = await anyio.to_thread.run_sync(self._call, request)
            await self.answers.set(key, raw, self.answer_ttl)
        return raw

    def forecast(self, series: pd.Series, periods: int, freq: str | None) -> pd.DataFrame:
        """The model's forecast for a clean series (DatetimeIndex, floats, no NaN); called
        from a worker thread of the event loop."""
        ds = iso_dates(pd.DatetimeIndex(series.index))
        return self._forecast_table(ds, series.tolist(), periods, freq)

    def _forecast_table(
        self, ds: Sequence[str], y: Sequence[float], periods: int, freq: str | None
    ) -> pd.DataFrame:
        request = forecast_request(ds, y, periods, freq, INTERVAL_WIDTH)
        return response_frame(orjson.loads(anyio.from_thread.run(self.answer, request)))

    def _call(self, request: Mapping[str, Any]) -> bytes:
        started = time.perf_counter()
        outcome = "ok"
        try:
            return self.model.answer(request)
        except TickercastError as exc:
            outcome = str(exc.status)
            raise
        finally:
            self.metrics.model_calls.labels(outcome).inc()
            self.metrics.model_seconds.observe(time.perf_counter() - started)

    def _ticker_request(
        self, ticker: str, source: str | None, choices: Choices
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The JSON API's answer without its forecast, and the model request it needs: made
        once for a window of prices and kept by the digest of those prices."""
        prices = self.history(ticker, source)
        raw = in_window(prices.frame, choices.window)
        key = (prices.provider, prices.ticker, choices.window, choices.horizon, frame_digest(raw))
        with self._prepared_lock:
            made = self._prepared.get(key)
            if made is not None:
                self._prepared.move_to_end(key)
        if made is None:
            made = self._prepare(prices, adjusted(raw), choices)
            with self._prepared_lock:
                self._prepared[key] = made
                while len(self._prepared) > PREPARED_MAX_ITEMS:
                    self._prepared.popitem(last=False)
        data, request = made
        return dict(data), request

    @staticmethod
    def _prepare(
        prices: PriceHistory, frame: pd.DataFrame, choices: Choices
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        series = usable(frame)
        ds = iso_dates(pd.DatetimeIndex(series.index))
        y = series.tolist()
        request = forecast_request(ds, y, choices.horizon, MARKET_FREQ, INTERVAL_WIDTH)
        data = {
            "ticker": prices.ticker,
            "source": prices.provider,
            "attribution": prices.attribution,
            "window": choices.window,
            "periods": choices.horizon,
            "freq": MARKET_FREQ,
            "interval_width": INTERVAL_WIDTH,
            "history": history_rows(series, ds),
        }
        return data, request

    async def ticker_forecast(
        self, ticker: str, source: str | None, choices: Choices
    ) -> dict[str, Any]:
        """The JSON API's answer for one ticker. Prices may come from a provider over the
        network: they are read in a worker thread."""
        data, request = await anyio.to_thread.run_sync(
            self._ticker_request, ticker, source, choices
        )
        data["forecast"] = answer_rows(orjson.loads(await self.answer(request)))
        return data

    def ticker_backtest(self, ticker: str, source: str | None, choices: Choices) -> dict[str, Any]:
        prices, frame = self.window(ticker, source, choices.window)
        series = usable(frame)
        return self.backtest(series, choices.horizon, MARKET_FREQ)

    def backtest(self, series: pd.Series, horizon: int, freq: str | None) -> dict[str, Any]:
        def call(ds: list[str], y: list[float], periods: int) -> pd.DataFrame:
            return self._forecast_table(ds, y, periods, freq)

        return backtest.run(series, horizon, call, INTERVAL_WIDTH).to_dict()

    def posted_series(self, body: Mapping[str, Any]) -> tuple[str, pd.Series, int, str | None]:
        """A series the browser sends back (an uploaded CSV): checked as the model checks it."""
        name = body.get("name") or "upload"
        if not isinstance(name, str):
            raise InvalidInput("name must be a string")
        # The future's step is chosen here (guess_freq), not by the contract's inference.
        fields = {k: body.get(k) for k in ("ds", "y", "periods") if k in body}
        request = parse_request(
            {**fields, "freq": "D"},
            Limits(max_rows=self.max_rows, max_periods=MAX_HORIZON),
        )
        series = pd.Series(request.y, index=request.ds).dropna()
        return name[:80], series, request.periods, guess_freq(request.ds)

    def series_forecast(self, body: Mapping[str, Any]) -> dict[str, Any]:
        name, series, periods, freq = self.posted_series(body)
        table = self.forecast(series, periods, freq)
        return {
            "ticker": name,
            "source": "upload",
            "periods": periods,
            "freq": freq or "inferred",
            "interval_width": INTERVAL_WIDTH,
            "history": history_rows(series),
            "forecast": forecast_rows(table),
        }

    def series_backtest(self, body: Mapping[str, Any]) -> dict[str, Any]:
        _, series, periods, freq = self.posted_series(body)
        return self.backtest(series, periods, freq)
