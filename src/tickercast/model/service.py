"""The model service's parts, built once per app from its settings (`build_service`): what its
routes depend on, kept on `app.state.service`."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from dataclasses import dataclass

from tickercast.contract import BatchLimits, Limits
from tickercast.model.callers import Callers, FailedKeys
from tickercast.model.compute import ComputeLimit
from tickercast.model.engine import Engine, MockEngine, ProphetEngine
from tickercast.model.metrics import Metrics
from tickercast.model.pipeline import Pipeline
from tickercast.model.slots import FitGate
from tickercast.runtime.cache import SharedCache, bytes_lru
from tickercast.runtime.lru import LRU
from tickercast.runtime.networks import parse_networks
from tickercast.runtime.ratelimit import RateLimit
from tickercast.runtime.redis_store import Store
from tickercast.settings import ModelSettings

log = logging.getLogger("tickercast.model")


class WarmUp:
    """The engine's warm-up, run in the background from the app's start: forecasts wait for
    it, `/readyz` tells how it went."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(asyncio.to_thread(self.engine.warm_up))
        self.task.add_done_callback(_report_failed_start)

    async def wait(self) -> None:
        if self.task is not None:
            await asyncio.shield(self.task)

    def not_ready(self) -> str | None:
        """Why the service is not ready yet, or None when it is."""
        if self.task is None or not self.task.done():
            return "warming up"
        if self.task.exception() is not None:
            return "engine failed to start"
        return None


def _report_failed_start(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the engine failed to start: %s", task.exception())


@dataclass(frozen=True)
class Service:
    settings: ModelSettings
    metrics: Metrics
    store: Store
    callers: Callers
    pipeline: Pipeline
    warm_up: WarmUp
    worker_header: dict[str, str] | None  # X-Worker on answers, when the settings ask for it


def build_service(
    settings: ModelSettings,
    engine: Engine | None = None,
    cache: LRU[str, bytes] | None = None,
    fit_slots_dir: str | None = None,
) -> Service:
    """`cache` holds forecasts when no Redis is configured; `fit_slots_dir` is the folder of
    fit slots the workers share (model/slots.py), else they are counted in this process."""
    if engine is None:
        engine = MockEngine() if settings.model_mock else ProphetEngine(settings.model_fit_timeout)
    metrics = Metrics()
    store = Store(settings.redis_url, on_change=lambda up: metrics.redis_up.set(int(up)))
    if cache is None:
        cache = bytes_lru(settings.model_cache_max_items, settings.model_cache_max_mb * 2**20)
    answers = SharedCache(store, "tickercast:forecast", settings.model_cache_max_items, cache)
    limits = Limits(max_rows=settings.model_max_rows, max_periods=settings.model_max_periods)
    # Per key: every request, cached answers included, at a high rate; computed ones at a low.
    callers = Callers(
        settings.api_keys,
        FailedKeys(settings.model_key_failure_limit, store),
        RateLimit(settings.model_request_rate_limit, store, "model-requests"),
        parse_networks(settings.model_trusted_proxies or ""),
    )
    compute = ComputeLimit(settings.model_rate_limit, settings.fit_slots, store)
    gate = FitGate(settings.fit_slots, settings.model_queue_size, fit_slots_dir)
    warm_up = WarmUp(engine)
    pipeline = Pipeline(
        engine,
        answers,
        gate,
        metrics,
        limits,
        settings.model_cache_ttl,
        ready=warm_up.wait,
        compute=compute,
        batch_limits=BatchLimits(settings.model_batch_max_series, settings.model_batch_max_rows),
    )
    worker = f"{socket.gethostname()}:{os.getpid()}"
    worker_header = {"X-Worker": worker} if settings.model_worker_header else None
    return Service(settings, metrics, store, callers, pipeline, warm_up, worker_header)
