"""The model service's app: `create_app(settings)` builds its parts (model/service.py) and
assembles them with the routes (model/routes.py), the error answers and the middleware.

Every error is answered as JSON, `{"message": ...}` (docs/contract.md); an unexpected one is a
generic 500, reported in the log once per kind.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from tickercast import __version__
from tickercast.errors import TickercastError
from tickercast.model.engine import Engine
from tickercast.model.routes import router
from tickercast.model.service import Service, build_service
from tickercast.runtime.logs import RequestLog
from tickercast.runtime.lru import LRU
from tickercast.runtime.serving import json_error
from tickercast.runtime.unexpected import ContainUnexpected, UnexpectedErrors
from tickercast.settings import ModelSettings

log = logging.getLogger("tickercast.model")


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
    service = build_service(settings, engine, cache, fit_slots_dir)
    app = FastAPI(
        title="tickercast model service",
        version=__version__,
        description="Fits Prophet to a posted time series and returns the forecast.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.service = service
    app.add_middleware(
        RequestLog,
        requests=service.metrics.http_requests,
        seconds=service.metrics.http_request_seconds,
    )
    app.add_exception_handler(TickercastError, known_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]
    app.add_middleware(
        ContainUnexpected,
        errors=UnexpectedErrors(log),
        answer=lambda scope: tickercast_error(TickercastError()),
    )
    app.include_router(router)
    return app


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    service: Service = app.state.service
    service.warm_up.start()
    yield
    await service.store.close()


def tickercast_error(exc: TickercastError) -> Response:
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
    return json_error(exc.status, exc.client_message, headers)


async def known_error(request: Request, exc: TickercastError) -> Response:
    return tickercast_error(exc)


async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """An unknown path (404) or method (405, with its `Allow` header), in the service's words."""
    return json_error(exc.status_code, str(exc.detail).lower(), exc.headers)
