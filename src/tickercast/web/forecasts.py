"""The web app's use cases: prices from the providers, forecasts and backtests from the model.

Routes call these and turn the results into pages or JSON; nothing here knows about HTTP.

Every model answer goes through one cache shared by the workers and replicas (`SharedCache`:
Redis, or this process), keyed by a digest of the request itself (the series, periods, step,
interval width and any other field), never by the URL that asked: new prices are a new key, and
two pages that need the same forecast share it.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
import numpy as np
import orjson
import pandas as pd

from tickercast.contract import DEFAULT_INTERVAL_WIDTH as INTERVAL_WIDTH  # the band pages show
from tickercast.contract import Limits, iso_dates, parse_request
from tickercast.data.base import PriceHistory
from tickercast.data.prices import PriceBook, PriceLookup
from tickercast.errors import InvalidInput, TickercastError
from tickercast.quant.calendars import step_word
from tickercast.record.buffer import Recorder
from tickercast.runtime.cache import SharedCache
from tickercast.runtime.lru import LRU
from tickercast.web import backtest, batched, notes, odds
from tickercast.web.backtest import band_label
from tickercast.web.metrics import WebMetrics
from tickercast.web.model_client import (
    BatchAnswer,
    Kind,
    ModelAnswer,
    ModelClient,
    ModelRejected,
    model_request,
)
from tickercast.web.recent import ViewLog
from tickercast.web.recording import shown_forecast
from tickercast.web.series import (
    FORECAST_COLUMNS,
    LEVEL_COLUMNS,
    MAX_HORIZON,
    PAGE_LEVELS,
    Choices,
    adjusted,
    answer_rows,
    guess_freq,
    history_rows,
    in_window,
    parse_method,
    usable,
)
from tickercast.web.series_checks import check_series_body

# The sessions of a ticker the model gets, whatever window the chart shows (all it has when
# fewer): one forecast and one backtest per ticker, day and method. Chosen by bench.history.
MODEL_HISTORY = 1250
UPLOAD_UNIT = "units of the file"
ANSWERS_NAMESPACE = "tickercast:model-answers"
# Part of every key: change it when the cached bytes' meaning changes (3: the model's default
# fit engine is the fast one for every method; 4: the model's version, a line before the answer;
# 5: the calibrated band's new shape, release 0.2.0; 6: page forecasts carry the quantiles at
# PAGE_LEVELS, which answers cached before lack).
ANSWERS_VERSION = "6"


PREPARED_MAX_ITEMS = 256
SeriesLists = tuple[Sequence[str], Sequence[float]]  # a model request's `ds` and `y`


def frame_digest(frame: pd.DataFrame) -> str:
    """A digest of a price frame's dates, column names and values."""
    digest = hashlib.sha256(pd.DatetimeIndex(frame.index).to_numpy().tobytes())
    for name in frame.columns:
        digest.update(str(name).encode())
        digest.update(np.ascontiguousarray(frame[name].to_numpy(dtype=float)).tobytes())
    return digest.hexdigest()


def answer_key(kind: Kind, request: Mapping[str, Any]) -> str:
    """The cache key of the model's answer to `request` (a body without the key) on the
    endpoint `kind`."""
    digest = hashlib.sha256(orjson.dumps(request, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return f"v{ANSWERS_VERSION}:{kind}:{digest}"


@dataclass(frozen=True)
class PriceSource:
    name: str
    label: str
    listed: int  # tickers it lists (0: an online source, which has any symbol it knows)
    answering: bool | None  # whether its last fetch here answered (None: not asked yet)
    unreachable: bool  # whether it could not be reached from this server lately


@dataclass(frozen=True)
class PostedSeries:
    name: str
    series: pd.Series
    periods: int
    freq: str | None
    method: str


@dataclass(frozen=True)
class PreparedForecast:
    """A forecast answer without the model's rows: everything made from the series alone."""

    head: dict[str, Any]  # the answer's fields before its forecast
    request: dict[str, Any]  # the model request (without the key)
    dates: pd.DatetimeIndex
    last: float
    unit: str
    band_notes: list[str]  # the calibrated band follows the market's mood: how wide it is today

    @classmethod
    def of(
        cls,
        series: pd.Series,
        periods: int,
        freq: str | None,
        method: str,
        unit: str,
        shown: pd.Series | None = None,
    ) -> PreparedForecast:
        """The forecast of `series`; its answer's history is `shown` (the chart's window), else
        the series itself."""
        dates = pd.DatetimeIndex(series.index)
        ds = iso_dates(dates)
        y = series.tolist()
        step = step_word(freq)
        head = {
            "method": method,
            "periods": periods,
            "interval_width": INTERVAL_WIDTH,
            "band_label": band_label(INTERVAL_WIDTH, None),
            "step": step,
            "history": history_rows(series, ds) if shown is None else history_rows(shown),
        }
        request = model_request(
            ds, y, freq, INTERVAL_WIDTH, method, levels=PAGE_LEVELS, periods=periods
        )
        band = notes.band_width_note(y, step) if method == "calibrated" else None
        return cls(head, request, dates, float(series.iloc[-1]), unit, [band] if band else [])

    def answer(self, raw: bytes) -> dict[str, Any]:
        """The forecast part of an API answer, with what the page must say about it, from the
        model's answer as it came over the wire (no table between): its rows with the
        quantiles at PAGE_LEVELS, those at the last date, and the odds they give."""
        model = orjson.loads(raw)
        levels = [key for key in LEVEL_COLUMNS if key in model]  # all, or none from an old model
        rows = answer_rows(model, FORECAST_COLUMNS + tuple(levels))
        freq = self.request.get("freq")
        at_horizon = odds.horizon_quantiles(rows, PAGE_LEVELS)
        date = rows[-1]["ds"][:10] if rows else ""
        upload = self.unit == UPLOAD_UNIT
        return {
            **self.head,
            "forecast": rows,
            "quantiles": [{"probability": p, "value": v} for p, v in at_horizon],
            "odds": odds.odds(at_horizon, self.last, date, self.unit, upload),
            "components": notes.components(self.dates, freq, rows, self.unit),
            "notes": notes.forecast_notes(self.last, rows, len(self.dates), self.head["step"])
            + self.band_notes,
        }


class Forecaster:
    """The use cases, async from the route to the model's answer: the prices once, then the
    answer cache, then the model. Worker threads only for a price provider's network call
    (in the `PriceBook`), for pandas work over a frame that can be large and for reading a
    model answer into rows (with the quantiles, up to 500 rows of 29 values)."""

    def __init__(
        self,
        prices: PriceBook,
        model: ModelClient,
        metrics: WebMetrics,
        answers: SharedCache,
        answer_ttl: float,
        max_rows: int,
    ) -> None:
        self.prices = prices
        self.views = ViewLog(prices.store)  # the tickers pages showed, for `tickercast refresh`
        self.model = model
        self.metrics = metrics
        self.answers = answers
        self.answer_ttl = answer_ttl
        self.max_rows = max_rows
        self.recorder: Recorder | None = None  # the track record, which keeps what is shown
        # The JSON API's answer head and model request of recent windows of prices, by the
        # digest of those prices: a miss makes the same again.
        self._prepared: LRU[tuple[object, ...], tuple[dict[str, Any], PreparedForecast]]
        self._prepared = LRU(PREPARED_MAX_ITEMS)

    async def close(self) -> None:
        """The model client's connections and the store's (they belong to this event loop)."""
        await self.model.aclose()
        await self.answers.store.close()

    def tickers(self) -> list[dict[str, str]]:
        """Every ticker any provider lists, for the picker."""
        return self.prices.tickers()

    async def history(self, ticker: str, source: str | None = None) -> PriceHistory:
        """The ticker's prices (from `source`, else the most recent source's)."""
        return await self.prices.history(ticker, source or None)

    async def lookup(self, ticker: str, source: str | None = None) -> PriceLookup:
        """The ticker's prices with what a page must say about them."""
        return await self.prices.lookup(ticker, source or None)

    async def find(self, text: str) -> str:
        """The ticker a user means by `text` (a symbol or a company's name)."""
        return await self.prices.find(text)

    def source_names(self) -> list[str]:
        """The price sources enabled here, in the order they are asked."""
        return list(self.prices.providers)

    def sources(self) -> list[PriceSource]:
        """Each price source this site asks, in the order they are asked."""
        book = self.prices
        return [
            PriceSource(
                name,
                book.label(name),
                len(provider.tickers()),
                book.answering(name),
                book.unreachable(name),
            )
            for name, provider in book.providers.items()
        ]

    def unreachable_labels(self) -> list[str]:
        """The sources that cannot be reached from this server lately (the home page's note)."""
        return self.prices.unreachable_labels()

    async def check_reach(self, wait: float) -> None:
        """Probe the sources' reach when a probe is due (every few minutes, not per page)."""
        await self.prices.check_reach(wait)

    async def viewed(self, ticker: str) -> None:
        """Note that a page showed `ticker` (for `tickercast refresh`)."""
        await self.views.viewed(ticker)

    async def recently_viewed(self) -> list[str]:
        """The tickers pages showed in the last week, the latest first."""
        return await self.views.recent()

    async def model_answer(self, kind: Kind, request: Mapping[str, Any]) -> ModelAnswer:
        """The model's answer to `request` on the endpoint `kind`, with the version of the
        model that made it: cached, else asked of the model. Forecasts and backtests share the
        cache."""
        key = answer_key(kind, request)
        cached = await self.answers.get(key) if self.answer_ttl else None
        self.metrics.answers.labels("miss" if cached is None else "hit").inc()
        if cached is not None:
            version, _, content = cached.partition(b"\n")
            return ModelAnswer(content, version.decode())
        fresh = await self._ask(kind, request)
        await self.answers.set(key, fresh.version.encode() + b"\n" + fresh.content, self.answer_ttl)
        return fresh

    async def model_answers(
        self,
        kind: Kind,
        requests: Mapping[str, Mapping[str, Any]],
        timeout: float | None = None,
        chunk: int = batched.CHUNK,
    ) -> dict[str, batched.Outcome]:
        """`model_answer` of many requests (by id): the cached ones from the cache, the rest
        in batch requests to the model (each request and its series bounded by `timeout`),
        each fresh answer cached under its single request's key."""
        keys = {name: answer_key(kind, request) for name, request in requests.items()}
        cached = await self.answers.get_many(list(keys.values())) if self.answer_ttl else []
        outcomes: dict[str, batched.Outcome] = {}
        for name, value in zip(keys, cached, strict=True):
            if value is not None:
                version, _, content = value.partition(b"\n")
                outcomes[name] = ModelAnswer(content, version.decode())
        self.metrics.answers.labels("hit").inc(len(outcomes))
        missing = {name: request for name, request in requests.items() if name not in outcomes}
        self.metrics.answers.labels("miss").inc(len(missing))

        async def send(kind: Kind, shared: Mapping[str, Any], items: Any) -> BatchAnswer:
            return await self.model.batch(kind, shared, items, timeout)

        for name, outcome in (await batched.ask_all(send, kind, missing, chunk)).items():
            outcomes[name] = outcome
            if isinstance(outcome, ModelAnswer):
                value = outcome.version.encode() + b"\n" + outcome.content
                await self.answers.set(keys[name], value, self.answer_ttl)
        return {name: outcomes[name] for name in requests}

    async def _ask(self, kind: Kind, request: Mapping[str, Any]) -> ModelAnswer:
        """One call to the model, counted in the metrics."""
        started = time.perf_counter()
        outcome = "ok"
        try:
            return await self.model.versioned_answer(kind, request)
        except TickercastError as exc:
            outcome = str(exc.status)
            raise
        finally:
            self.metrics.model_calls.labels(outcome).inc()
            self.metrics.model_seconds.observe(time.perf_counter() - started)

    async def backtest(
        self, series: SeriesLists, horizon: int, freq: str | None, method: str
    ) -> dict[str, Any]:
        """The model's backtest of `horizon` steps at every page level, with as many origins
        as the history holds (`backtest.plans`: computed from its length, so one request); the
        next plan only if the model refuses one (400, with its reason)."""
        rows = len(series[0])
        refusal: ModelRejected | None = None
        for plan in backtest.plans(rows, horizon, method, step_word(freq)):
            request = backtest_request(series, plan, freq, method)
            try:
                answer = await self.model_answer("backtest", request)
            except ModelRejected as exc:
                refusal = refusal or exc
                continue
            result = orjson.loads(answer.content)
            why = refusal.detail if refusal else plan.shorter
            return backtest.answer(result, horizon, why, freq, plan.fewer)
        assert refusal is not None
        raise refusal

    async def ticker_forecast(
        self, ticker: str, source: str | None, choices: Choices
    ) -> dict[str, Any]:
        """The JSON API's answer for one ticker: the forecast of its last `MODEL_HISTORY`
        sessions, whatever the window, which only says how much history comes with it."""
        priced = await self.lookup(ticker, source)
        prices = priced.history
        key = (
            prices.provider,
            prices.ticker,
            choices.window,
            choices.horizon,
            choices.method,
            frame_digest(prices.frame),
        )
        made = self._prepared.get(key)
        if made is None:
            made = await anyio.to_thread.run_sync(_ticker_prepared, prices, choices)
            self._prepared.put(key, made)
        head, prepared = made
        answer = await self.model_answer("forecast", prepared.request)
        # A worker thread: with the quantiles' 22 columns, up to 500 rows of 29 values.
        forecast = await anyio.to_thread.run_sync(prepared.answer, answer.content)
        data = {**head, "price_notes": priced.notes(), **forecast}
        if self.recorder is not None:
            self.recorder.show(shown_forecast(data, prepared.dates[-1], prepared.last, answer))
        return data

    async def ticker_backtest(
        self, ticker: str, source: str | None, choices: Choices
    ) -> dict[str, Any]:
        """The backtest of the ticker's forecast: the same at every window."""
        prices = await self.history(ticker, source)
        series = await anyio.to_thread.run_sync(lambda: lists_of(model_series(prices.frame)))
        result = await self.backtest(series, choices.horizon, prices.calendar, choices.method)
        return {
            "ticker": prices.ticker,
            "source": prices.provider,
            "window": choices.window,
            **result,
        }

    def posted_series(self, body: Mapping[str, Any]) -> PostedSeries:
        """A series the browser sends back (an uploaded CSV): its items checked by the web
        API's stricter rules (which refuse a repeated date or a value that is not a number),
        the rest as the model checks it, then sorted by date, so no fit sees the future."""
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
        series = pd.Series(request.y, index=request.ds).sort_index(kind="stable")
        return PostedSeries(name[:80], series, request.periods, guess_freq(request.ds), method)

    async def series_forecast(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """The JSON API's answer for a posted series (up to `max_rows` rows: its pandas work
        runs in worker threads)."""

        def prepare() -> tuple[PostedSeries, PreparedForecast]:
            posted = self.posted_series(body)
            prepared = PreparedForecast.of(
                posted.series, posted.periods, posted.freq, posted.method, UPLOAD_UNIT
            )
            return posted, prepared

        posted, prepared = await anyio.to_thread.run_sync(prepare)
        answer = await self.model_answer("forecast", prepared.request)
        forecast = await anyio.to_thread.run_sync(prepared.answer, answer.content)
        return {
            "ticker": posted.name,
            "source": "upload",
            "freq": posted.freq or "inferred",
            **forecast,
        }

    async def series_backtest(self, body: Mapping[str, Any]) -> dict[str, Any]:
        def prepare() -> tuple[PostedSeries, SeriesLists]:
            posted = self.posted_series(body)
            return posted, lists_of(posted.series)

        posted, series = await anyio.to_thread.run_sync(prepare)
        result = await self.backtest(series, posted.periods, posted.freq, posted.method)
        return {"ticker": posted.name, "source": "upload", **result}


def backtest_request(
    series: SeriesLists, plan: backtest.Plan, freq: str | None, method: str
) -> dict[str, Any]:
    """The model request of a page's backtest by `plan`: every page level."""
    return model_request(
        *series,
        freq,
        INTERVAL_WIDTH,
        method,
        levels=PAGE_LEVELS,
        horizon=plan.horizon,
        cutoffs=plan.cutoffs,
    )


def page_backtest_request(prices: PriceHistory, choices: Choices) -> dict[str, Any]:
    """The backtest a ticker page asks first for `prices` (the one it shows whenever the model
    takes it): what `tickercast refresh --universe ... --backtests` warms."""
    series = lists_of(model_series(prices.frame))
    step = step_word(prices.calendar)
    plan = backtest.plans(len(series[0]), choices.horizon, choices.method, step)[0]
    return backtest_request(series, plan, prices.calendar, choices.method)


def lists_of(series: pd.Series) -> SeriesLists:
    """A series as the model request's `ds` and `y`."""
    return iso_dates(pd.DatetimeIndex(series.index)), series.tolist()


def model_series(frame: pd.DataFrame) -> pd.Series:
    """What the model gets for a ticker's prices: the last `MODEL_HISTORY` sessions,
    adjusted, without gaps (whatever window the page shows)."""
    return usable(adjusted(frame.iloc[-MODEL_HISTORY:]))  # row by row: rows first


def _ticker_prepared(
    prices: PriceHistory, choices: Choices
) -> tuple[dict[str, Any], PreparedForecast]:
    """The JSON API's answer for a ticker without its forecast part, and that part's makings:
    the model's fixed history, the chosen window's for the chart."""
    head = {
        "ticker": prices.ticker,
        "name": prices.name,
        "source": prices.provider,
        "attribution": prices.attribution,
        "window": choices.window,
        "freq": prices.calendar,
        "currency": prices.currency,
    }
    shown = usable(adjusted(in_window(prices.frame, choices.window)))
    prepared = PreparedForecast.of(
        model_series(prices.frame),
        choices.horizon,
        prices.calendar,
        choices.method,
        prices.currency,
        shown=shown,
    )
    return head, prepared
