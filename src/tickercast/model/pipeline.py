"""The model service's one request pipeline, which the routes call once the key is checked.

For a forecast, in this order: parse the input into a request with its dates (a calendar
without enough sessions is a 400 before anything else), choose its method once (the engine's
`Method`: what computes it, its cache tag, its release), look up the cache, take a fit slot,
compute and encode, store. A backtest is the same steps for each of its folds: every fold is a
forecast request for the rows before its origin, answered by the backtest's method, so folds
share the cache with forecasts and with other backtests, and they run on every free fit slot at
once. Its scored answer is cached too.

A batch (model/batches.py) is each of its series through `forecast` (or `backtest`), as its
single request would be.

The key's compute limit (`model/compute.py`) is charged before each forecast that is computed,
never for a cached one, what the fit is estimated to cost in fit-slot time, and trued up after
the fit: a backtest whose folds all miss costs what its folds cost, one whose folds are all
cached costs nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from tickercast.contract import (
    BACKTEST_BATCH_ITEM_FIELDS,
    BatchItem,
    BatchLimits,
    ForecastRequest,
    Limits,
    least_training_rows,
    level_keys,
    parse_backtest_request,
    parse_batch,
    parse_request,
)
from tickercast.errors import ServiceBusy
from tickercast.model import backtesting, batches
from tickercast.model.compute import ComputeLimit
from tickercast.model.engine import Engine, Method, forecast_body
from tickercast.model.metrics import Metrics
from tickercast.model.prophet_seam.forecasting import FitTimeout
from tickercast.model.slots import BUSY_RETRY_AFTER, FitGate
from tickercast.runtime.cache import SharedCache


@dataclass(frozen=True)
class Encoded:
    """A forecast's or a backtest's response body as the route sends it, and what to say of it."""

    content: bytes
    outcome: str  # "computed" or "cached"
    rows: int
    model_version: str  # the engine and release that answer, e.g. "fast/0.1.0"


@dataclass
class Pipeline:
    engine: Engine
    cache: SharedCache
    gate: FitGate
    metrics: Metrics
    limits: Limits
    cache_ttl: float
    ready: Callable[[], Awaitable[None]]
    compute: ComputeLimit  # fit-slot seconds per API key; RateLimited when over
    batch_limits: BatchLimits = field(default_factory=BatchLimits)

    async def forecast(self, data: Mapping[str, Any]) -> Encoded:
        req = parse_request(data, self.limits)
        await self.ready()
        method = self.engine.method(req)
        content, outcome = await self._forecast(req, method, data["key"])
        return Encoded(content, outcome, req.n, method.release)

    async def backtest(self, data: Mapping[str, Any]) -> Encoded:
        bt = parse_backtest_request(data, self.limits)
        await self.ready()
        method = self.engine.method(bt.series)  # every fold is answered the same way
        key = f"{method.tag}:{bt.digest()}"
        content = await self._lookup(key)
        if content is not None:
            return Encoded(content, "cached", bt.series.n, method.release)
        series = bt.series
        least = least_training_rows(series.method)
        ends = backtesting.origins(series.n, bt.horizon, bt.cutoffs, least)
        # At most one fold per slot from this request: the others wait here, not in the queue.
        parallel = asyncio.Semaphore(max(1, self.gate.slots))

        async def fold(end: int) -> tuple[backtesting.Forecast, backtesting.Bands]:
            async with parallel:
                content, _ = await self._forecast(bt.fold(end), method, data["key"])
            return _fold_forecast(content, bt.horizon, series.levels)

        folds = await asyncio.gather(*(fold(end) for end in ends))
        forecasts = [forecast for forecast, _ in folds]
        report = backtesting.report(
            series.method,
            series.ds,
            series.y,
            ends,
            bt.horizon,
            series.freq,
            series.interval_width,
            forecasts,
            [bands for _, bands in folds] if series.levels else None,
        )
        content = orjson.dumps(report)
        await self._store(key, content)
        return Encoded(content, "computed", series.n, method.release)

    async def forecast_batch(self, data: Mapping[str, Any]) -> Encoded:
        """POST /batch: each series a forecast, on every fit slot at once."""
        items = parse_batch(data, self.batch_limits)
        batch = await batches.answer_all(items, self.forecast, self.gate.slots)
        return _batch_answer(batch, items, "forecasts")

    async def backtest_batch(self, data: Mapping[str, Any]) -> Encoded:
        """POST /backtest with `series`: each series a backtest, one at a time (each one's
        folds already run on every fit slot at once)."""
        items = parse_batch(data, self.batch_limits, BACKTEST_BATCH_ITEM_FIELDS)
        batch = await batches.answer_all(items, self.backtest, 1)
        return _batch_answer(batch, items, "backtests")

    async def _forecast(
        self, req: ForecastRequest, method: Method, api_key: str
    ) -> tuple[bytes, str]:
        key = f"{method.tag}:{req.digest()}"
        content = await self._lookup(key)
        if content is not None:
            return content, "cached"
        charged = await self.compute.charge(api_key, req)  # only computed forecasts cost
        self.metrics.rows.observe(req.n)
        self.metrics.in_flight.inc()
        cpu = [0.0]  # the fit's CPU seconds, as far as it got
        try:
            async with self.gate.hold():
                content = await self._timed_fit(req, method, cpu)
        except FitTimeout:
            raise ServiceBusy("fit timed out", retry_after=BUSY_RETRY_AFTER) from None
        finally:
            self.metrics.in_flight.dec()
            await self.compute.settle(api_key, charged, cpu[0])
        await self._store(key, content)
        return content, "computed"

    async def _timed_fit(self, req: ForecastRequest, method: Method, cpu: list[float]) -> bytes:
        """The method's answer, counted in the fit metrics (waiting for a slot excluded); the
        CPU seconds of the thread that computed it in `cpu[0]`."""
        started = time.perf_counter()
        outcome = "error"
        try:
            content = await asyncio.to_thread(_cpu_timed, method, req, cpu)
            outcome = "ok"
            return content
        except FitTimeout:
            outcome = "timeout"
            raise
        finally:
            self.metrics.fits.labels(outcome).inc()
            self.metrics.fit_seconds.observe(time.perf_counter() - started)

    async def _lookup(self, key: str) -> bytes | None:
        content = await self.cache.get(key) if self.cache_ttl else None
        self.metrics.cache.labels("hit" if content else "miss").inc()
        return content

    async def _store(self, key: str, content: bytes) -> None:
        if self.cache_ttl:
            await self.cache.set(key, content, self.cache_ttl)


def _cpu_timed(method: Method, req: ForecastRequest, cpu: list[float]) -> bytes:
    """`forecast_body` in this thread, its CPU time added to `cpu[0]` (a fit that fails or
    times out spent it too)."""
    started = time.thread_time()
    try:
        return forecast_body(method, req)
    finally:
        cpu[0] += time.thread_time() - started


def _batch_answer(batch: batches.Batch, items: list[BatchItem], answers: str) -> Encoded:
    content = batch.body([item.id for item in items], answers)
    return Encoded(content, batch.outcome, batch.rows, batch.model_version)


def _fold_forecast(
    content: bytes, horizon: int, levels: Sequence[float]
) -> tuple[backtesting.Forecast, backtesting.Bands]:
    """A fold's forecast and each level's band from its answer's body."""
    body = orjson.loads(content)

    def column(name: str) -> np.ndarray:
        cells = body[name]
        return np.array([cells[k] for k in sorted(cells, key=int)][:horizon], dtype=float)

    forecast = backtesting.Forecast(column("yhat"), column("yhat_lower"), column("yhat_upper"))
    bands = {level: (column(lo), column(hi)) for level in levels for lo, hi in [level_keys(level)]}
    return forecast, bands
