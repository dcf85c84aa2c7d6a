"""The model service's routes, one function each on `router`; what they need comes from the
app's `Service` (`ServiceOf`). A new POST route that answers from the pipeline is one function
that calls `respond` with the pipeline's step for it.

POST /          a forecast, per docs/contract.md
POST /backtest  rolling-origin scores of a forecast method against the random walk; with
                `series`, one backtest per series (model/batches.py)
POST /batch     a forecast per series of `series`, as POST / answers each (model/batches.py)
GET  /healthz   the process is up
GET  /readyz    Prophet is loaded and a first fit ran
GET  /metrics   Prometheus text
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse, Response

from tickercast.contract import MODEL_VERSION_HEADER, parse_body
from tickercast.errors import RequestTooLarge, TickercastError
from tickercast.model.openapi import (
    BACKTEST_OPENAPI,
    BATCH_OPENAPI,
    FORECAST_OPENAPI,
    NOT_READY_OPENAPI,
)
from tickercast.model.pipeline import Encoded
from tickercast.model.service import Service
from tickercast.runtime.serving import json_error, read_body
from tickercast.settings import ModelSettings

log = logging.getLogger("tickercast.model")
JSON = "application/json"

router = APIRouter()


def service_of(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


ServiceOf = Annotated[Service, Depends(service_of)]
Step = Callable[[dict[str, Any]], Awaitable[Encoded]]  # a pipeline step: checked data in


async def respond(
    request: Request, service: Service, step: Step | None, batch_step: Step | None = None
) -> Response:
    """The answer to a POST: its body read, its caller admitted (docs/contract.md's order),
    then `step` of the pipeline, or `batch_step` for a body with `series` (or without `step`);
    timed and logged, errors included."""
    started = time.perf_counter()
    outcome = "error"
    path = request.url.path
    try:
        data, step = await _read(request, service.settings, step, batch_step)
        peer = request.client.host if request.client else None
        await service.callers.admit(peer, request.headers, data)
        result = await step(data)
        outcome = result.outcome
        log.info("%s rows=%d %s", path, result.rows, outcome)
        version = {MODEL_VERSION_HEADER: result.model_version} if result.model_version else {}
        headers = {**version, **(service.worker_header or {})}
        return Response(result.content, media_type=JSON, headers=headers)
    except TickercastError as exc:
        log.info("%s refused: %d %s", path, exc.status, exc.client_message)
        raise
    finally:
        service.metrics.duration.labels(outcome).observe(time.perf_counter() - started)


async def _read(
    request: Request, settings: ModelSettings, step: Step | None, batch_step: Step | None
) -> tuple[dict[str, Any], Step]:
    """The body, within the size limit of the form it takes (a batch has its own), and the
    step that answers it."""
    single = settings.model_max_body_bytes
    if batch_step is None:
        assert step is not None
        return parse_body(await read_body(request, single)), step
    body = await read_body(request, max(single, settings.model_batch_max_bytes))
    data = parse_body(body)
    if step is None or "series" in data:
        if len(body) > settings.model_batch_max_bytes:
            raise RequestTooLarge()
        return data, batch_step
    if len(body) > single:
        raise RequestTooLarge()
    return data, step


@router.post("/", openapi_extra=FORECAST_OPENAPI, summary="Forecast a time series")
async def forecast(request: Request, service: ServiceOf) -> Response:
    return await respond(request, service, service.pipeline.forecast)


@router.post("/backtest", openapi_extra=BACKTEST_OPENAPI, summary="Backtest a forecast method")
async def backtest(request: Request, service: ServiceOf) -> Response:
    pipeline = service.pipeline
    return await respond(request, service, pipeline.backtest, pipeline.backtest_batch)


@router.post("/batch", openapi_extra=BATCH_OPENAPI, summary="Forecast many series")
async def batch(request: Request, service: ServiceOf) -> Response:
    return await respond(request, service, None, service.pipeline.forecast_batch)


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Ready to serve forecasts", responses=NOT_READY_OPENAPI)
async def readyz(service: ServiceOf) -> Response:
    problem = service.warm_up.not_ready()
    if problem is not None:
        return json_error(503, problem)
    return Response(b'{"status":"ready"}', media_type=JSON, headers=service.worker_header)


@router.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
async def prometheus(service: ServiceOf) -> Response:
    return Response(service.metrics.exposition(), media_type="text/plain; version=0.0.4")
