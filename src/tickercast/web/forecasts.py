"""The web app's use cases: prices from the providers, forecasts and backtests from the model.

Routes call these and turn the results into pages or JSON; nothing here knows about HTTP.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from tickercast.contract import Limits, iso_dates, parse_request
from tickercast.data.base import PriceHistory, PriceProvider
from tickercast.data.registry import resolve
from tickercast.errors import InvalidInput, TickercastError
from tickercast.web import backtest
from tickercast.web.metrics import WebMetrics
from tickercast.web.model_client import ModelClient
from tickercast.web.series import (
    MAX_HORIZON,
    Choices,
    adjusted,
    forecast_rows,
    guess_freq,
    history_rows,
    in_window,
    usable,
)
from tickercast.web.series_checks import check_series_body

INTERVAL_WIDTH = 0.8
MARKET_FREQ = "XNYS"  # provider prices are NYSE sessions, so the future is too


class Forecaster:
    def __init__(
        self,
        providers: Mapping[str, PriceProvider],
        model: ModelClient,
        metrics: WebMetrics,
        max_rows: int = 20_000,
    ) -> None:
        self.providers = providers
        self.model = model
        self.metrics = metrics
        self.max_rows = max_rows

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
        return prices, in_window(adjusted(prices.frame), window)

    def forecast(self, series: pd.Series, periods: int, freq: str | None) -> pd.DataFrame:
        """The model's forecast for a clean series (DatetimeIndex, floats, no NaN)."""
        return self._call(iso_dates(pd.DatetimeIndex(series.index)), series.tolist(), periods, freq)

    def _call(
        self, ds: Sequence[str], y: Sequence[float], periods: int, freq: str | None
    ) -> pd.DataFrame:
        started = time.perf_counter()
        outcome = "ok"
        try:
            return self.model.forecast(
                ds, y, periods=periods, freq=freq, interval_width=INTERVAL_WIDTH
            )
        except TickercastError as exc:
            outcome = str(exc.status)
            raise
        finally:
            self.metrics.model_calls.labels(outcome).inc()
            self.metrics.model_seconds.observe(time.perf_counter() - started)

    def ticker_forecast(self, ticker: str, source: str | None, choices: Choices) -> dict[str, Any]:
        """The JSON API's answer for one ticker."""
        prices, frame = self.window(ticker, source, choices.window)
        series = usable(frame)
        table = self.forecast(series, choices.horizon, MARKET_FREQ)
        return {
            "ticker": prices.ticker,
            "source": prices.provider,
            "attribution": prices.attribution,
            "window": choices.window,
            "periods": choices.horizon,
            "freq": MARKET_FREQ,
            "interval_width": INTERVAL_WIDTH,
            "history": history_rows(series),
            "forecast": forecast_rows(table),
        }

    def ticker_backtest(self, ticker: str, source: str | None, choices: Choices) -> dict[str, Any]:
        prices, frame = self.window(ticker, source, choices.window)
        series = usable(frame)
        return self.backtest(series, choices.horizon, MARKET_FREQ)

    def backtest(self, series: pd.Series, horizon: int, freq: str | None) -> dict[str, Any]:
        def call(ds: list[str], y: list[float], periods: int) -> pd.DataFrame:
            return self._call(ds, y, periods, freq)

        return backtest.run(series, horizon, call, INTERVAL_WIDTH).to_dict()

    def posted_series(self, body: Mapping[str, Any]) -> tuple[str, pd.Series, int, str | None]:
        """A series the browser sends back (an uploaded CSV): checked as the model checks it."""
        check_series_body(body)
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
