"""Redis as every worker of every replica shares it: one async client per process, failing open.

A request never waits on Redis for long and never fails because of it. Every call goes through
`Store.call`, which answers None instead of raising when Redis cannot be used:

    up        calls go to Redis, each with a short timeout
    down      after a failed call: calls answer None at once, so callers fall back (a cache
              misses, a rate limit is counted in this process); one call in a while tries
              Redis again, waiting longer after each failure (bounded), until one succeeds

The change is logged once each way and shown by `on_change` (a gauge in /metrics).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger("tickercast.runtime.redis_store")
T = TypeVar("T")

TIMEOUT = 0.25  # seconds for one Redis call, connecting included
FIRST_RETRY, LAST_RETRY = 0.5, 5.0  # seconds between attempts while Redis is down


class Store:
    def __init__(
        self,
        url: str | None,
        on_change: Callable[[bool], None] | None = None,
        timeout: float = TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client: aioredis.Redis | None = None
        if url:
            self.client = aioredis.Redis.from_url(
                url, socket_timeout=timeout, socket_connect_timeout=timeout
            )
        self.up = True
        self._on_change = on_change or (lambda up: None)
        self._clock = clock
        self._retry_at = 0.0
        self._wait = FIRST_RETRY
        self._on_change(self.up)

    @property
    def shared(self) -> bool:
        """Redis is configured (whether or not it answers right now)."""
        return self.client is not None

    async def call(self, op: Callable[[aioredis.Redis], Awaitable[T]]) -> T | None:
        """`op(client)`'s result, or None when Redis is not configured, down or failing."""
        if self.client is None:
            return None
        if not self.up:
            now = self._clock()
            if now < self._retry_at:
                return None
            self._retry_at = now + self._wait  # one attempt at a time; the others fall back
            self._wait = min(self._wait * 2, LAST_RETRY)
        try:
            result = await op(self.client)
        except (RedisError, OSError) as exc:
            if self.up:
                self._went_down(exc)
                # Connections opened before the outage are dead: none is handed out again.
                with contextlib.suppress(RedisError, OSError):
                    await self.client.connection_pool.disconnect()
            return None
        if not self.up:
            self.up, self._wait = True, FIRST_RETRY
            log.warning("Redis is back: shared cache and rate limits again")
            self._on_change(True)
        return result

    def _went_down(self, exc: Exception) -> None:
        self.up = False
        self._retry_at = self._clock() + self._wait
        log.warning(
            "Redis is unavailable (%s): serving without the shared cache, rate limits "
            "counted in this process, until it is back",
            type(exc).__name__,
        )
        self._on_change(False)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()
