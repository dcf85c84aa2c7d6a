"""The operator's routes: liveness, readiness and Prometheus metrics. Async: they answer on
the event loop, never queued behind forecasts in the thread pool."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from tickercast.web.deps import Metrics, Record, UseCases

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(forecaster: UseCases) -> dict[str, object]:
    # Ready once built: the pages serve history even while the model service is down.
    return {"status": "ready", "providers": sorted(forecaster.source_names())}


@router.get("/metrics")
async def prometheus(recorder: Record, metrics: Metrics) -> Response:
    await recorder.count_scored()
    return Response(metrics.exposition(), media_type="text/plain; version=0.0.4")
