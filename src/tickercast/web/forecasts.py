"""The web app's use cases: prices from the providers, forecasts and backtests from the model.

Routes call these and turn the results into pages or JSON; nothing here knows about HTTP.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from tickercast.contract import Limits, iso_dates, parse_request
from tickercast.data.base import PriceHistory, PriceProvider
from tickercast.data.registry import resolve
from tickercast.errors import InvalidInput, TickercastError
from tickercast.web import backtest, notes
from tickercast.web.backtest import band_label
from tickercast.web.metrics import WebMetrics
from tickercast.web.model_client import ModelClient, ModelRejected
from tickercast.web.series import (
    MAX_HORIZON,
    Choices,
    adjusted,
    forecast_rows,
    guess_freq,
    history_rows,
    in_window,
    parse_method,
    usable,
)
from tickercast.web.series_checks import check_series_body

INTERVAL_WIDTH = 0.8
MARKET_FREQ = "XNYS"  # provider prices are NYSE sessions, so the future is too
TICKER_UNIT = "USD"  # every price provider's prices are US dollars
UPLOAD_UNIT = "units of the file"


@dataclass(frozen=True)
class PostedSeries:
    name: str
    series: pd.Series
    periods: int
    freq: str | None
    method: str


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

    def forecast(
        self, series: pd.Series, periods: int, freq: str | None, method: str
    ) -> pd.DataFrame:
        """The model's forecast for a clean series (DatetimeIndex, floats, no NaN)."""
        table: pd.DataFrame = self._call("forecast", series, freq, method, periods=periods)
        return table

    def backtest(
        self, series: pd.Series, horizon: int, freq: str | None, method: str
    ) -> dict[str, Any]:
        """The model's backtest of `horizon` steps, or of the longest shorter horizon the
        history allows (the model refuses too short a history with its reason: 400)."""
        refusal: ModelRejected | None = None
        for steps in backtest.horizons_to_try(horizon):
            try:
                result = self._call(
                    "backtest", series, freq, method, horizon=steps, cutoffs=backtest.CUTOFFS
                )
            except ModelRejected as exc:
                refusal = refusal or exc
                continue
            return backtest.answer(result, horizon, refusal.detail if refusal else None, freq)
        assert refusal is not None
        raise refusal

    def _call(
        self,
        kind: Literal["forecast", "backtest"],
        series: pd.Series,
        freq: str | None,
        method: str,
        **steps: int,
    ) -> Any:
        """Every call to the model goes through here: `kind` is its endpoint, `steps` its
        periods (forecast) or horizon and cutoffs (backtest)."""
        ds = iso_dates(pd.DatetimeIndex(series.index))
        y = series.tolist()
        call = self.model.backtest if kind == "backtest" else self.model.forecast
        started = time.perf_counter()
        outcome = "ok"
        try:
            return call(ds, y, freq=freq, interval_width=INTERVAL_WIDTH, method=method, **steps)
        except TickercastError as exc:
            outcome = str(exc.status)
            raise
        finally:
            self.metrics.model_calls.labels(outcome).inc()
            self.metrics.model_seconds.observe(time.perf_counter() - started)

    def answer(
        self, series: pd.Series, periods: int, freq: str | None, method: str, unit: str
    ) -> dict[str, Any]:
        """The forecast part of an API answer, with what the page must say about it."""
        rows = forecast_rows(self.forecast(series, periods, freq, method))
        dates = pd.DatetimeIndex(series.index)
        return {
            "method": method,
            "periods": periods,
            "interval_width": INTERVAL_WIDTH,
            "band_label": band_label(INTERVAL_WIDTH, None),
            "step": backtest.step_word(freq),
            "history": history_rows(series),
            "forecast": rows,
            "components": notes.components(dates, freq, rows, unit),
            "notes": notes.forecast_notes(float(series.iloc[-1]), rows, len(series)),
        }

    def ticker_forecast(self, ticker: str, source: str | None, choices: Choices) -> dict[str, Any]:
        """The JSON API's answer for one ticker."""
        prices, frame = self.window(ticker, source, choices.window)
        series = usable(frame)
        answer = self.answer(series, choices.horizon, MARKET_FREQ, choices.method, TICKER_UNIT)
        return {
            "ticker": prices.ticker,
            "source": prices.provider,
            "attribution": prices.attribution,
            "window": choices.window,
            "freq": MARKET_FREQ,
            **answer,
        }

    def ticker_backtest(self, ticker: str, source: str | None, choices: Choices) -> dict[str, Any]:
        prices, frame = self.window(ticker, source, choices.window)
        result = self.backtest(usable(frame), choices.horizon, MARKET_FREQ, choices.method)
        return {
            "ticker": prices.ticker,
            "source": prices.provider,
            "window": choices.window,
            **result,
        }

    def posted_series(self, body: Mapping[str, Any]) -> PostedSeries:
        """A series the browser sends back (an uploaded CSV): checked as the model checks it,
        then sorted by date (a repeated date is refused), so no fit sees the future."""
        check_series_body(body)
        name = body.get("name") or "upload"
        if not isinstance(name, str):
            raise InvalidInput("name must be a string")
        method = parse_method(body.get("method"))
        # The future's step is chosen here (guess_freq), not by the contract's inference.
        fields = {k: body.get(k) for k in ("ds", "y", "periods") if k in body}
        request = parse_request(
            {**fields, "freq": "D"},
            Limits(max_rows=self.max_rows, max_periods=MAX_HORIZON),
        )
        series = pd.Series(request.y, index=request.ds).dropna().sort_index(kind="stable")
        repeated = series.index[series.index.duplicated()]
        if len(repeated):
            raise InvalidInput(f"the date {iso_dates(repeated[:1])[0]} appears more than once")
        return PostedSeries(name[:80], series, request.periods, guess_freq(request.ds), method)

    def series_forecast(self, body: Mapping[str, Any]) -> dict[str, Any]:
        posted = self.posted_series(body)
        answer = self.answer(posted.series, posted.periods, posted.freq, posted.method, UPLOAD_UNIT)
        return {
            "ticker": posted.name,
            "source": "upload",
            "freq": posted.freq or "inferred",
            **answer,
        }

    def series_backtest(self, body: Mapping[str, Any]) -> dict[str, Any]:
        posted = self.posted_series(body)
        result = self.backtest(posted.series, posted.periods, posted.freq, posted.method)
        return {"ticker": posted.name, "source": "upload", **result}
