"""The model service's HTTP layer: `create_app(settings)` builds one app; routes stay thin.

POST /          a forecast, per docs/contract.md
POST /backtest  rolling-origin scores of a forecast method against the random walk
GET  /healthz   the process is up
GET  /readyz    Prophet is loaded and a first fit ran
GET  /metrics   Prometheus text
GET  /openapi.json
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from tickercast import __version__
from tickercast.contract import Limits, parse_body
from tickercast.errors import TickercastError, error_body
from tickercast.model.callers import FailedKeys, client_address
from tickercast.model.engine import Engine, MockEngine, ProphetEngine
from tickercast.model.metrics import Metrics
from tickercast.model.openapi import BACKTEST_OPENAPI, FORECAST_OPENAPI, NOT_READY_OPENAPI
from tickercast.model.pipeline import Answer, Pipeline
from tickercast.model.slots import FitGate
from tickercast.runtime.cache import SharedCache, bytes_lru
from tickercast.runtime.logs import RequestLog
from tickercast.runtime.lru import LRU
from tickercast.runtime.networks import parse_networks
from tickercast.runtime.ratelimit import RateLimit
from tickercast.runtime.redis_store import Store
from tickercast.runtime.serving import read_body
from tickercast.runtime.unexpected import ContainUnexpected, UnexpectedErrors
from tickercast.settings import ModelSettings

log = logging.getLogger("tickercast.model")
JSON = "application/json"
# Names the engine and release that made a forecast or backtest, e.g. "fast/0.1.0".
MODEL_VERSION_HEADER = "X-Model-Version"


def error_response(exc: TickercastError) -> Response:
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
    return Response(error_body(exc.client_message), exc.status, headers=headers, media_type=JSON)


def create_app(
    settings: ModelSettings,
    *,
    engine: Engine | None = None,
    cache: LRU[str, bytes] | None = None,
    fit_slots_dir: str | None = None,
) -> FastAPI:
    """The model service. `cache` holds forecasts when no Redis is configured; `fit_slots_dir`
    is the folder of fit slots its workers share (model/slots.py), else counted here."""
    logging.getLogger("tickercast").setLevel(settings.log_level.upper())
    if engine is None:
        engine = MockEngine() if settings.model_mock else ProphetEngine(settings.model_fit_timeout)
    metrics = Metrics()
    store = Store(settings.redis_url, on_change=lambda up: metrics.redis_up.set(int(up)))
    memory = (
        cache
        if cache is not None
        else bytes_lru(settings.model_cache_max_items, settings.model_cache_max_mb * 2**20)
    )
    answers = SharedCache(store, "tickercast:forecast", settings.model_cache_max_items, memory)
    keys = settings.api_keys
    limits = Limits(max_rows=settings.model_max_rows, max_periods=settings.model_max_periods)
    # Per key: every request, cached answers included, at a high rate; computed ones at a low.
    requests_rate = RateLimit(settings.model_request_rate_limit, store, "model-requests")
    rate = RateLimit(settings.model_rate_limit, store, "model")
    gate = FitGate(settings.fit_slots, settings.model_queue_size, fit_slots_dir)
    warm: dict[str, asyncio.Task[None]] = {}
    worker = f"{socket.gethostname()}:{os.getpid()}"
    worker_header = {"X-Worker": worker} if settings.model_worker_header else None
    failed_keys = FailedKeys(settings.model_key_failure_limit, store)
    proxies = parse_networks(settings.model_trusted_proxies or "")

    async def check_client_key(request: Request, data: dict[str, object]) -> None:
        """The order of docs/contract.md: the key, then (without a right one) the client."""
        client = client_address(
            request.client.host if request.client else None, request.headers, proxies
        )
        await failed_keys.admit(client, data, keys)

    def report_failed_start(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("the engine failed to start: %s", task.exception())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        warm["task"] = asyncio.create_task(asyncio.to_thread(engine.warm_up))
        warm["task"].add_done_callback(report_failed_start)
        yield
        await store.close()

    async def ready() -> None:
        task = warm.get("task")
        if task is not None:
            await asyncio.shield(task)

    app = FastAPI(
        title="tickercast model service",
        version=__version__,
        description="Fits Prophet to a posted time series and returns the forecast.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )

    app.add_middleware(
        RequestLog, requests=metrics.http_requests, seconds=metrics.http_request_seconds
    )

    @app.exception_handler(TickercastError)
    async def _known(request: Request, exc: TickercastError) -> Response:
        return error_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        return Response(
            error_body(str(exc.detail).lower()),
            exc.status_code,
            headers=exc.headers,  # `Allow` on a 405
            media_type=JSON,
        )

    unexpected = UnexpectedErrors(log)

    app.add_middleware(
        ContainUnexpected, errors=unexpected, answer=lambda scope: error_response(TickercastError())
    )

    pipeline = Pipeline(
        engine,
        answers,
        gate,
        metrics,
        limits,
        settings.model_cache_ttl,
        ready=ready,
        fit_limit=rate.hit,
    )

    async def answer(
        request: Request, run: Callable[[dict[str, Any]], Awaitable[Answer]]
    ) -> Response:
        started = time.perf_counter()
        outcome = "error"
        path = request.url.path
        try:
            data = parse_body(await read_body(request, settings.model_max_body_bytes))
            await check_client_key(request, data)
            await requests_rate.hit(data["key"])
            result = await run(data)
            outcome = result.outcome
            log.info("%s rows=%d %s", path, result.rows, outcome)
            headers = {MODEL_VERSION_HEADER: result.model_version, **(worker_header or {})}
            return Response(result.content, media_type=JSON, headers=headers)
        except TickercastError as exc:
            log.info("%s refused: %d %s", path, exc.status, exc.client_message)
            raise
        finally:
            metrics.duration.labels(outcome).observe(time.perf_counter() - started)

    @app.post("/", openapi_extra=FORECAST_OPENAPI, summary="Forecast a time series")
    async def forecast(request: Request) -> Response:
        return await answer(request, pipeline.forecast)

    @app.post("/backtest", openapi_extra=BACKTEST_OPENAPI, summary="Backtest a forecast method")
    async def backtest(request: Request) -> Response:
        return await answer(request, pipeline.backtest)

    @app.get("/healthz", summary="The process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", summary="Ready to serve forecasts", responses=NOT_READY_OPENAPI)
    async def readyz() -> Response:
        task = warm.get("task")
        if task is None or not task.done():
            return Response(error_body("warming up"), 503, media_type=JSON)
        if task.exception() is not None:
            return Response(error_body("engine failed to start"), 503, media_type=JSON)
        return Response(b'{"status":"ready"}', media_type=JSON, headers=worker_header)

    @app.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
    async def prometheus() -> Response:
        return Response(metrics.exposition(), media_type="text/plain; version=0.0.4")

    return app
