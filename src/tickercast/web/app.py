"""The web app: `create_app(settings)` builds one app; nothing is built at import time.

It only assembles: the collaborators `settings` describe go on `app.state` (where the routes'
dependencies, `web.deps`, find them), then the routers, the error handlers, the middleware
and the static files. The routes:

Pages (HTML, `web.pages`)            JSON API (`web.api`)
GET  /                home, picker   GET  /api/tickers
GET  /go              picker form    GET  /api/forecast/{ticker}?periods=&window=&method=&format=
GET  /t/{ticker}      ticker page    GET  /api/backtest/{ticker}?periods=&window=&method=
GET  /compare         2-5 tickers    POST /api/forecast   a series the browser holds (upload)
POST /upload          CSV upload     POST /api/backtest
Track record (`web.track_record`)    GET /track-record, GET /api/track-record/{ticker}[/forecasts]
Download (`web.analysis`)            GET /api/analysis/{ticker}?periods=&window=&method=&format=
Operations (`web.health`)            GET /healthz, /readyz, /metrics;  static files: /static/...

Every choice lives in the URL; the app holds no session state, so any worker serves any page.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.templating import Jinja2Templates
from starlette.middleware.gzip import GZipMiddleware

from tickercast import __version__
from tickercast.data.base import PriceProvider
from tickercast.data.prices import PriceBook
from tickercast.data.registry import build_providers
from tickercast.errors import TickercastError
from tickercast.record.buffer import Recorder, RecordMetrics
from tickercast.runtime.cache import SharedCache, bytes_lru
from tickercast.runtime.logs import RequestLog
from tickercast.runtime.redis_store import Store
from tickercast.runtime.unexpected import ContainUnexpected, UnexpectedErrors
from tickercast.settings import WebSettings
from tickercast.web import analysis, api, health, pages, track_record, watchlist
from tickercast.web import openapi as web_openapi
from tickercast.web.forecasts import ANSWERS_NAMESPACE, Forecaster
from tickercast.web.handlers import add_error_handlers, error_response
from tickercast.web.headers import CachedStaticFiles, SecurityHeaders
from tickercast.web.metrics import WebMetrics
from tickercast.web.model_client import ModelClient

log = logging.getLogger("tickercast.web")
HERE = Path(__file__).parent
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
    store: Store | None = None,
) -> Forecaster:
    """The web app's use cases, with the process's one fail-open `Store` (made here unless
    given): the cache of model answers that every page and `tickercast refresh` read and fill,
    and the cache of fetched prices, both in Redis when configured (shared by every worker and
    replica), else in this process. Call `close()` when done."""
    store = store or store_from(settings, metrics)
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


def store_from(settings: WebSettings, metrics: WebMetrics) -> Store:
    return Store(settings.redis_url, on_change=lambda up: metrics.redis_up.set(int(up)))


def templates_from() -> Jinja2Templates:
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.globals.update(version=__version__)
    return templates


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
    app = FastAPI(
        title="tickercast",
        version=__version__,
        description="Stock prices with a forecast and an honest measure of its past accuracy.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    state = app.state
    state.settings = settings
    state.metrics = WebMetrics()
    state.model = model_client or model_client_from(settings)
    store = store_from(settings, state.metrics)
    state.forecaster = forecaster_from(settings, providers, state.model, state.metrics, store)
    state.recorder = recorder_from(settings, store, state.metrics)
    state.forecaster.recorder = state.recorder
    state.templates = templates_from()
    add_error_handlers(app)
    add_middleware(app, state.metrics)
    describe_api(app, settings.upload_max_rows)
    include(app, health.router)
    mount_static(app)
    include(app, api.router, pages.router, track_record.router, analysis.router, watchlist.router)
    return app


def include(app: FastAPI, *routers: APIRouter) -> None:
    """Each router's routes on the app's own router, in order, so `app.routes` lists every
    path it serves (`include_router` would nest each router as one route of its own)."""
    for router in routers:
        app.router.routes.extend(router.routes)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    state = app.state
    state.model.reopen()
    state.recorder.start()
    yield
    await state.recorder.close()  # before the store: what is pending goes to Redis first
    await state.forecaster.close()


def add_middleware(app: FastAPI, metrics: WebMetrics) -> None:
    """From the innermost out: unexpected errors contained, gzip, the request log, and the
    security headers on every answer."""
    # Anything else: a generic 500, reported once per kind (the model service's policy too).
    app.add_middleware(
        ContainUnexpected,
        errors=UnexpectedErrors(log),
        answer=lambda scope: error_response(Request(scope), TickercastError()),
    )
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES, compresslevel=6)
    app.add_middleware(RequestLog, requests=metrics.requests, seconds=metrics.request_seconds)
    app.add_middleware(SecurityHeaders)  # the outermost: on every answer


def describe_api(app: FastAPI, max_rows: int) -> None:
    """The OpenAPI document: FastAPI's, with what it cannot say itself (made once)."""
    generated = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = web_openapi.describe(generated(), max_rows)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def mount_static(app: FastAPI) -> None:
    """/static/vendor/plotly.min.js from the installed plotly package; the rest of /static
    from this package's folder."""
    plotly_js = plotly_js_path()
    vendor = CachedStaticFiles(
        directory=plotly_js.parent, max_age=VENDOR_MAX_AGE, only=[plotly_js.name]
    )
    app.mount("/static/vendor", vendor, name="vendor")
    app.mount(
        "/static",
        CachedStaticFiles(directory=HERE / "static", max_age=STATIC_MAX_AGE),
        name="static",
    )
