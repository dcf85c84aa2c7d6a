"""The web app: `create_app(settings)` builds one app; nothing is built at import time.

Pages (HTML)                         JSON API
GET  /                home, picker   GET  /api/tickers
GET  /go              picker form    GET  /api/forecast/{ticker}?periods=&window=&method=&format=
GET  /t/{ticker}      ticker page    GET  /api/backtest/{ticker}?periods=&window=&method=
GET  /compare         2-5 tickers    POST /api/forecast   a series the browser holds (upload)
POST /upload          CSV upload     POST /api/backtest
GET  /healthz, /readyz, /metrics, /static/...

Every choice lives in the URL; the app holds no session state, so any worker serves any page.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware

from tickercast import __version__
from tickercast.data.base import PriceProvider
from tickercast.data.prices import PriceBook
from tickercast.data.registry import build_providers
from tickercast.errors import InvalidInput, NotFound, TickercastError, sentence
from tickercast.record.buffer import Recorder, RecordMetrics
from tickercast.runtime.cache import SharedCache, bytes_lru
from tickercast.runtime.logs import RequestLog
from tickercast.runtime.redis_store import Store
from tickercast.runtime.serving import json_error
from tickercast.runtime.unexpected import ContainUnexpected, UnexpectedErrors
from tickercast.settings import WebSettings
from tickercast.web import api, pages, track_record
from tickercast.web import openapi as web_openapi
from tickercast.web.forecasts import ANSWERS_NAMESPACE, Forecaster
from tickercast.web.headers import CachedStaticFiles, SecurityHeaders, add_security_headers
from tickercast.web.metrics import WebMetrics
from tickercast.web.model_client import ModelClient

log = logging.getLogger("tickercast.web")
HERE = Path(__file__).parent
JSON = "application/json"
ANSWERS_MAX_ITEMS, ANSWERS_MAX_BYTES = 2_000, 32 * 2**20  # in-process: a forecast is ~10-40 KB
# Responses smaller than this go out as they are; plotly.min.js (4.8 MB) goes out as ~1.4 MB.
GZIP_MIN_BYTES = 1000
STATIC_MAX_AGE = 3600  # the pages ask for /static/app.css?v=VERSION: a new release, a new URL
VENDOR_MAX_AGE = 86400


def plotly_js_path() -> Path:
    """plotly.min.js as the installed `plotly` package ships it (found without importing it)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the plotly package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "package_data" / "plotly.min.js"


def model_client_from(settings: WebSettings) -> ModelClient:
    return ModelClient(
        settings.model_api_url.get_secret_value(),
        settings.model_api_key.get_secret_value(),
        timeout=settings.model_api_timeout,
        retries=settings.model_api_retries,
    )


def forecaster_from(
    settings: WebSettings,
    providers: Mapping[str, PriceProvider],
    model: ModelClient,
    metrics: WebMetrics,
) -> Forecaster:
    """The web app's use cases, with the process's one fail-open `Store`: the cache of model
    answers that every page and `tickercast refresh` read and fill, and the cache of fetched
    prices, both in Redis when configured (shared by every worker and replica), else in this
    process. Call `close()` when done."""
    store = Store(settings.redis_url, on_change=lambda up: metrics.redis_up.set(int(up)))
    prices = PriceBook(
        providers, store, budget=settings.price_time_budget, observe=metrics.provider_event
    )
    answers = SharedCache(
        store,
        ANSWERS_NAMESPACE,
        ANSWERS_MAX_ITEMS,
        bytes_lru(ANSWERS_MAX_ITEMS, ANSWERS_MAX_BYTES),
    )
    return Forecaster(
        prices,
        model,
        metrics,
        answers,
        settings.model_answer_cache_ttl,
        settings.upload_max_rows,
    )


def recorder_from(settings: WebSettings, store: Store, metrics: WebMetrics) -> Recorder:
    """The track record's writer: shown forecasts buffered in Redis when it is set (so a
    replaced worker loses none), written to DATABASE_URL's database (opened on first use)."""
    return Recorder(
        settings.record_url,
        shared=store,
        metrics=RecordMetrics(metrics.registry),
        max_buffered=settings.record_buffer_max,
    )


def create_app(
    settings: WebSettings,
    *,
    providers: Mapping[str, PriceProvider] | None = None,
    model_client: ModelClient | None = None,
) -> FastAPI:
    """The web app; `providers` and `model_client` default to those `settings` describe (a
    model client given here is closed with the app too)."""
    logging.getLogger("tickercast").setLevel(settings.log_level.upper())
    providers = providers if providers is not None else build_providers(settings)
    model = model_client or model_client_from(settings)
    metrics = WebMetrics()
    forecaster = forecaster_from(settings, providers, model, metrics)
    recorder = recorder_from(settings, forecaster.answers.store, metrics)
    forecaster.recorder = recorder
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.globals.update(version=__version__)
    plotly_js = plotly_js_path()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        model.reopen()
        recorder.start()
        yield
        await recorder.close()  # before the store: what is pending goes to Redis first
        await forecaster.close()

    app = FastAPI(
        title="tickercast",
        version=__version__,
        description="Stock prices with a forecast and an honest measure of its past accuracy.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )

    def is_api(request: Request) -> bool:
        return request.url.path.startswith("/api/")

    def error_response(
        request: Request, exc: TickercastError, headers: Mapping[str, str] | None = None
    ) -> Response:
        headers = dict(headers or {})
        if exc.retry_after:
            headers["Retry-After"] = str(exc.retry_after)
        message = sentence(exc.client_message)
        response: Response
        if is_api(request):
            response = json_error(exc.status, message, headers)
        else:
            response = templates.TemplateResponse(
                request,
                "error.html",
                {"message": message, "status": exc.status},
                status_code=exc.status,
                headers=headers,
            )
        # Also on the answers to unexpected errors, which come from outside the routes.
        add_security_headers(response.headers)
        return response

    @app.exception_handler(TickercastError)
    async def _known(request: Request, exc: TickercastError) -> Response:
        return error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        first = errors[0] if errors else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "query")
        return error_response(request, InvalidInput(f"{where}: {first.get('msg', 'unreadable')}"))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return error_response(request, NotFound("page not found"))
        error = TickercastError(str(exc.detail))
        error.status = exc.status_code
        return error_response(request, error, exc.headers)  # e.g. Allow on a 405

    # Anything else: a generic 500, reported once per kind (the model service's policy too).
    app.add_middleware(
        ContainUnexpected,
        errors=UnexpectedErrors(log),
        answer=lambda scope: error_response(Request(scope), TickercastError()),
    )
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES, compresslevel=6)
    app.add_middleware(RequestLog, requests=metrics.requests, seconds=metrics.request_seconds)

    # Async: they answer on the event loop, never queued behind forecasts in the thread pool.
    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> dict[str, object]:
        # Ready once built: the pages serve history even while the model service is down.
        return {"status": "ready", "providers": sorted(providers)}

    @app.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        await recorder.count_scored()
        return Response(metrics.exposition(), media_type="text/plain; version=0.0.4")

    generated = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = web_openapi.describe(generated(), forecaster.max_rows)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    vendor = CachedStaticFiles(
        directory=plotly_js.parent, max_age=VENDOR_MAX_AGE, only=[plotly_js.name]
    )
    app.mount("/static/vendor", vendor, name="vendor")
    app.mount(
        "/static",
        CachedStaticFiles(directory=HERE / "static", max_age=STATIC_MAX_AGE),
        name="static",
    )
    app.add_middleware(SecurityHeaders)  # the outermost: on every answer
    app.state.forecaster = forecaster  # for tests and tools that drive the app in-process
    api.register(app, forecaster, settings)
    pages.register(app, forecaster, templates, settings)
    track_record.register(app, recorder, templates)
    return app
