"""Requests per client over a moving window: in Redis, so every worker and replica counts
together, and in this process whenever Redis is not configured or not answering."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable

from limits import RateLimitItem
from limits import parse as parse_rate
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter

from tickercast.errors import RateLimited
from tickercast.runtime.redis_store import Store


class RateLimit:
    """`rate` (`limits` syntax, e.g. `600/minute`) for each client, under `scope`; a client
    over it is told `message` (429). `unit`: how many of `rate`'s amounts one count is (a
    rate in milliseconds counted in hundredths of a second: 10), so a window holds fewer
    entries."""

    def __init__(
        self, rate: str, store: Store, scope: str, message: str | None = None, unit: int = 1
    ) -> None:
        item = parse_rate(rate)
        amount = max(1, item.amount // unit)
        self.item: RateLimitItem = type(item)(amount, item.multiples, item.namespace)
        self.scope = scope
        self.store = store
        self.message = message
        self.local = MovingWindowRateLimiter(MemoryStorage())
        self.shared: MovingWindowRateLimiter | None = None
        if store.client is not None:  # the store's own connections, not a second pool
            redis = RedisStorage(
                "async+redis://",
                implementation="redispy",
                connection_pool=store.client.connection_pool,  # type: ignore[arg-type]
            )
            self.shared = MovingWindowRateLimiter(redis)

    async def hit(self, client: str, cost: int = 1) -> None:
        """Count `cost` for `client` (a key or an address: only its hash is stored);
        RateLimited, counting nothing, when that is more than it has left."""
        who = _hashed(client)
        allowed, limiter = await self._ask(
            lambda limiter: limiter.hit(self.item, self.scope, who, cost=cost)
        )
        if not allowed:
            await self._refuse(limiter, who)

    async def check(self, client: str) -> None:
        """RateLimited when `client` has nothing left, counting nothing."""
        who = _hashed(client)
        allowed, limiter = await self._ask(lambda limiter: limiter.test(self.item, self.scope, who))
        if not allowed:
            await self._refuse(limiter, who)

    async def count(self, client: str, cost: int = 1) -> None:
        """Count `cost` for `client`, over or not: what is spent is spent (when it is more
        than is left, what is left, so the client has nothing left)."""
        who = _hashed(client)

        async def spend(limiter: MovingWindowRateLimiter) -> bool:
            if await limiter.hit(self.item, self.scope, who, cost=cost):
                return True
            left = (await limiter.get_window_stats(self.item, self.scope, who)).remaining
            return await limiter.hit(self.item, self.scope, who, cost=left) if left > 0 else False

        await self._ask(spend)

    async def _ask(
        self, op: Callable[[MovingWindowRateLimiter], Awaitable[bool]]
    ) -> tuple[bool, MovingWindowRateLimiter]:
        """`op` on the limiter in Redis, else (not configured, or not answering) on this
        process's; its answer and the limiter that gave it."""
        if self.shared is not None:
            shared = self.shared
            allowed = await self.store.call(lambda _: op(shared))
            if allowed is not None:
                return allowed, shared
        return await op(self.local), self.local

    async def _refuse(self, limiter: MovingWindowRateLimiter, who: str) -> None:
        raise RateLimited(self.message, retry_after=await self._retry_after(limiter, who))

    async def _retry_after(self, limiter: MovingWindowRateLimiter, who: str) -> int:
        async def reset(_: object) -> float:
            return (await limiter.get_window_stats(self.item, self.scope, who)).reset_time

        at = await reset(None) if limiter is self.local else await self.store.call(reset)
        return max(1, int((at or time.time()) - time.time()) + 1)


def _hashed(client: str) -> str:
    return hashlib.sha256(client.encode()).hexdigest()[:24]  # never the key itself
