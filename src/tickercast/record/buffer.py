"""Recording forecasts as they are shown, without ever holding a page for the database.

A page only adds its forecast to this worker's pending views (no I/O). A background task, every
`interval` seconds, moves them to the buffer (a Redis list when Redis is set and answers, so a
recycled or replaced worker loses nothing; else this process's own) and writes the buffer to
the database in batches. While the database is down the buffer keeps them, bounded by
`max_buffered` (past that the oldest are dropped, counted and logged), and the record says it is
unavailable; when it is back, everything buffered is written. On shutdown the pending views go
to the buffer and one last write is tried; what is left in this process's own buffer is lost,
and counted as dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

import anyio.to_thread
import orjson
from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy import Engine
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError

from tickercast.record import db, queries, writes
from tickercast.record.writes import ShownForecast
from tickercast.runtime.redis_store import Store

log = logging.getLogger("tickercast.record")

REDIS_KEY = "tickercast:record:shown"
BATCH = 200  # forecasts written in one transaction
INTERVAL = 0.5  # seconds between writes
CLOSE_TIMEOUT = 5.0  # seconds the last write on shutdown may take


class RecordMetrics:
    def __init__(self, registry: CollectorRegistry, prefix: str = "tickercast_web") -> None:
        r = registry
        self.stored = Counter(
            f"{prefix}_record_forecasts_stored",
            "Forecasts new to the track record, written by this app.",
            registry=r,
        )
        self.views = Counter(
            f"{prefix}_record_views_stored", "Views of forecasts written to the record.", registry=r
        )
        self.dropped = Counter(
            f"{prefix}_record_dropped",
            "Shown forecasts dropped unwritten (the buffer was full, or a worker stopped).",
            registry=r,
        )
        self.buffered = Gauge(
            f"{prefix}_record_buffered",
            "Shown forecasts waiting to be written (this worker's, and Redis's list).",
            registry=r,
            multiprocess_mode="livemax",
        )
        self.up = Gauge(
            f"{prefix}_record_up",
            "1 while the record's database takes writes, 0 while it does not.",
            registry=r,
            multiprocess_mode="livemin",
        )
        self.scored = Gauge(
            f"{prefix}_record_steps_scored",
            "Steps of stored forecasts scored so far (read from the record's totals).",
            registry=r,
            multiprocess_mode="livemax",
        )
        self.up.set(1)


class Recorder:
    def __init__(
        self,
        url: str,
        shared: Store | None = None,
        metrics: RecordMetrics | None = None,
        max_buffered: int = 10_000,
        interval: float = INTERVAL,
        open_engine: Callable[[str], Engine] = db.open_engine,
    ) -> None:
        self.url = url
        self.shared = shared if shared is not None and shared.shared else None
        self.metrics = metrics or RecordMetrics(CollectorRegistry())
        self.max_buffered = max_buffered
        self.interval = interval
        self._open_engine = open_engine
        self._engine: Engine | None = None
        self._engine_lock = threading.Lock()
        self._pending: dict[tuple[object, ...], ShownForecast] = {}
        self._buffer: deque[bytes] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._stop = asyncio.Event()
        self.available = True

    # -- the page's side: no I/O -------------------------------------------------------------

    def show(self, shown: ShownForecast) -> None:
        """Count a view of `shown`; it is written within `interval` seconds, or when the
        database is back."""
        key = shown.key()
        before = self._pending.get(key)
        self._pending[key] = shown if before is None else writes.merge_views([before, shown])[0]
        self._wake.set()

    # -- the background writer ---------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        """Stop the writer once its round is done; buffer what is pending and try one last
        write."""
        self._closing = True
        self._wake.set()
        self._stop.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), CLOSE_TIMEOUT)
            except TimeoutError:  # a write hangs on the database: leave it behind
                self._task.cancel()
            self._task = None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.write(), CLOSE_TIMEOUT)
        if self._buffer:
            self._drop(len(self._buffer), "the worker stopped with the database unavailable")
            self._buffer.clear()
        if self._engine is not None:
            await anyio.to_thread.run_sync(self._engine.dispose)
            self._engine = None

    async def _run(self) -> None:
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()
            if self._closing:
                return
            try:
                await self.write()
            except Exception:  # the writer must outlive any one failure
                log.exception("record: the writer failed; trying again")
            with contextlib.suppress(TimeoutError):  # at most a round per interval
                await asyncio.wait_for(self._stop.wait(), self.interval)

    async def write(self) -> int:
        """Buffer what is pending, then write the buffer to the database while it takes it;
        how many shown forecasts were written."""
        await self._buffer_pending()
        written = 0
        while True:
            items, from_redis = await self._take()
            if not items:
                break
            if not await self._store(items):
                await self._give_back(items, from_redis)
                break
            written += len(items)
        await self._count_buffered()
        return written

    async def _buffer_pending(self) -> None:
        if not self._pending:
            return
        pending, self._pending = list(self._pending.values()), {}
        items = [orjson.dumps(one.to_json()) for one in pending]
        if self.shared is not None:
            length = await self.shared.call(lambda r: r.rpush(REDIS_KEY, *items))
            if length is not None:
                if length > self.max_buffered:
                    await self.shared.call(lambda r: r.ltrim(REDIS_KEY, -self.max_buffered, -1))
                    self._drop(int(length) - self.max_buffered, "the buffer in Redis is full")
                return
        self._buffer.extend(items)
        self._trim()

    def _trim(self) -> None:
        over = len(self._buffer) - self.max_buffered
        if over > 0:
            for _ in range(over):
                self._buffer.popleft()
            self._drop(over, "this worker's buffer is full")

    def _drop(self, count: int, why: str) -> None:
        self.metrics.dropped.inc(count)
        log.warning("record: %d shown forecasts dropped unwritten (%s)", count, why)

    async def _take(self) -> tuple[list[bytes], bool]:
        if self._buffer:
            n = min(BATCH, len(self._buffer))
            return [self._buffer.popleft() for _ in range(n)], False
        if self.shared is not None:
            taken: Any = await self.shared.call(lambda r: r.lpop(REDIS_KEY, BATCH))
            if taken:
                return [bytes(item) for item in taken], True
        return [], False

    async def _give_back(self, items: list[bytes], from_redis: bool) -> None:
        """Put unwritten items back at the head of the buffer they came from."""
        if from_redis and self.shared is not None:
            done = await self.shared.call(lambda r: r.lpush(REDIS_KEY, *reversed(items)))
            if done is not None:
                return
        self._buffer.extendleft(reversed(items))
        self._trim()

    async def _store(self, items: list[bytes]) -> bool:
        shown = writes.merge_views([ShownForecast.from_json(orjson.loads(i)) for i in items])
        try:
            new = await anyio.to_thread.run_sync(self._write, shown)
        except (OperationalError, InterfaceError, OSError) as exc:
            self._went_down(exc)
            return False
        except SQLAlchemyError:  # the database refused these rows: they would never go in
            log.exception("record: %d shown forecasts refused by the database", len(items))
            self.metrics.dropped.inc(len(items))
            return True
        if not self.available:
            log.warning("record: the database is back; writing what was buffered")
        self.available = True
        self.metrics.up.set(1)
        self.metrics.stored.inc(new)
        self.metrics.views.inc(sum(one.views for one in shown))
        return True

    def _write(self, shown: list[ShownForecast]) -> int:
        return writes.store(self.engine(), shown)

    def _went_down(self, exc: Exception) -> None:
        if self.available:
            log.warning(
                "record: the database is unavailable (%s); buffering shown forecasts",
                type(exc).__name__,
            )
        self.available = False
        self.metrics.up.set(0)

    async def _count_buffered(self) -> None:
        waiting = len(self._buffer)
        if self.shared is not None:
            length: Any = await self.shared.call(lambda r: r.llen(REDIS_KEY))
            waiting += int(length or 0)
        self.metrics.buffered.set(waiting)

    async def count_scored(self) -> None:
        """Read the steps scored so far into the metrics (skipped while the database is down)."""
        if not self.available:
            return
        try:
            scored = await anyio.to_thread.run_sync(lambda: queries.scored_steps(self.engine()))
        except (SQLAlchemyError, OSError):
            return
        self.metrics.scored.set(scored)

    def engine(self) -> Engine:
        """The process's one engine (opened on first use, in the caller's thread)."""
        with self._engine_lock:
            if self._engine is None:
                self._engine = self._open_engine(self.url)
            return self._engine
