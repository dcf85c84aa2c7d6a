"""Requests per client over a moving window: in Redis, so every worker and replica counts
together, and in this process whenever Redis is not configured or not answering."""

from __future__ import annotations

import hashlib
import time

from limits import RateLimitItem
from limits import parse as parse_rate
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter

from tickercast.errors import RateLimited
from tickercast.store import Store


class RateLimit:
    """`rate` (`limits` syntax, e.g. `600/minute`) for each client, under `scope`."""

    def __init__(self, rate: str, store: Store, scope: str) -> None:
        self.item: RateLimitItem = parse_rate(rate)
        self.scope = scope
        self.store = store
        self.local = MovingWindowRateLimiter(MemoryStorage())
        self.shared: MovingWindowRateLimiter | None = None
        if store.client is not None:  # the store's own connections, not a second pool
            redis = RedisStorage(
                "async+redis://",
                implementation="redispy",
                connection_pool=store.client.connection_pool,  # type: ignore[arg-type]
            )
            self.shared = MovingWindowRateLimiter(redis)

    async def hit(self, client: str) -> None:
        """Count one for `client` (a key: only its hash is stored); RateLimited when over."""
        who = hashlib.sha256(client.encode()).hexdigest()[:24]
        limiter = self.local
        allowed: bool | None = None
        if self.shared is not None:
            shared = self.shared
            allowed = await self.store.call(lambda _: shared.hit(self.item, self.scope, who))
            if allowed is not None:
                limiter = shared
        if allowed is None:
            allowed = await self.local.hit(self.item, self.scope, who)
        if not allowed:
            raise RateLimited(retry_after=await self._retry_after(limiter, who))

    async def _retry_after(self, limiter: MovingWindowRateLimiter, who: str) -> int:
        async def reset(_: object) -> float:
            return (await limiter.get_window_stats(self.item, self.scope, who)).reset_time

        at = await reset(None) if limiter is self.local else await self.store.call(reset)
        return max(1, int((at or time.time()) - time.time()) + 1)
