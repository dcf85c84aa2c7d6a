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
import hashlib
import logging
import os
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from limits import parse as parse_rate
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from starlette.exceptions import HTTPException as StarletteHTTPException

from tickercast import __version__
from tickercast.cache import Cache, make_cache
from tickercast.contract import Limits, check_key, parse_body
from tickercast.errors import RateLimited, TickercastError, error_body
from tickercast.logs import RequestLog
from tickercast.model.engine import Engine, MockEngine, ProphetEngine
from tickercast.model.metrics import Metrics
from tickercast.model.openapi import BACKTEST_OPENAPI, FORECAST_OPENAPI
from tickercast.model.pipeline import Answer, Pipeline
from tickercast.model.slots import FIT_SLOTS_DIR, FitGate
from tickercast.serving import configure_logging, read_body
from tickercast.settings import ModelSettings

log = logging.getLogger("tickercast.model")
JSON = "application/json"


class RateLimit:
    """Requests per key over a moving window, in Redis when configured (shared by replicas)."""

    def __init__(self, rate: str, redis_url: str | None) -> None:
        self.item = parse_rate(rate)
        self.limiter = MovingWindowRateLimiter(storage_from_string(redis_url or "memory://"))

    def hit(self, key: str) -> None:
        who = hashlib.sha256(key.encode()).hexdigest()[:24]  # never the key itself
        if not self.limiter.hit(self.item, "model", who):
            reset = self.limiter.get_window_stats(self.item, "model", who).reset_time
            raise RateLimited(retry_after=max(1, int(reset - time.time()) + 1))


def error_response(exc: TickercastError) -> Response:
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
    return Response(error_body(exc.client_message), exc.status, headers=headers, media_type=JSON)


def create_app(
    settings: ModelSettings, *, engine: Engine | None = None, cache: Cache | None = None
) -> FastAPI:
    logging.getLogger("tickercast").setLevel(settings.log_level.upper())
    if engine is None:
        engine = MockEngine() if settings.model_mock else ProphetEngine(settings.model_fit_timeout)
    if cache is None:
        cache = make_cache(
            settings.redis_url,
            "tickercast:forecast",
            max_items=settings.model_cache_max_items,
            max_bytes=settings.model_cache_max_mb * 2**20,
        )
    keys = settings.api_keys
    limits = Limits(max_rows=settings.model_max_rows, max_periods=settings.model_max_periods)
    rate = RateLimit(settings.model_rate_limit, settings.redis_url)
    gate = FitGate(settings.fit_slots, settings.model_queue_size, os.environ.get(FIT_SLOTS_DIR))
    metrics = Metrics()
    warm: dict[str, asyncio.Task[None]] = {}
    worker = f"{socket.gethostname()}:{os.getpid()}"

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        warm["task"] = asyncio.create_task(asyncio.to_thread(engine.warm_up))
        yield

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
        return Response(error_body(str(exc.detail).lower()), exc.status_code, media_type=JSON)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(TickercastError())

    pipeline = Pipeline(engine, cache, gate, metrics, limits, settings.model_cache_ttl, ready=ready)

    async def answer(
        request: Request, run: Callable[[dict[str, Any]], Awaitable[Answer]]
    ) -> Response:
        started = time.perf_counter()
        outcome = "error"
        path = request.url.path
        try:
            data = parse_body(await read_body(request, settings.model_max_body_bytes))
            check_key(data, keys)
            rate.hit(data["key"])
            result = await run(data)
            outcome = result.outcome
            metrics.requests.labels("200").inc()
            log.info("%s rows=%d %s", path, result.rows, outcome)
            return Response(result.content, media_type=JSON, headers={"X-Worker": worker})
        except TickercastError as exc:
            metrics.requests.labels(str(exc.status)).inc()
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

    @app.get("/readyz", summary="Ready to serve forecasts")
    async def readyz() -> Response:
        task = warm.get("task")
        if task is None or not task.done():
            return Response(error_body("warming up"), 503, media_type=JSON)
        if task.exception() is not None:
            return Response(error_body("engine failed to start"), 503, media_type=JSON)
        return Response(b'{"status":"ready"}', media_type=JSON)

    @app.get("/metrics", summary="Prometheus metrics")
    async def prometheus() -> Response:
        return Response(metrics.exposition(), media_type="text/plain; version=0.0.4")

    return app


def app_from_env() -> FastAPI:
    """The factory gunicorn calls in each worker: settings come from the environment."""
    settings = ModelSettings()  # type: ignore[call-arg]
    configure_logging(settings.log_level)
    return create_app(settings)
