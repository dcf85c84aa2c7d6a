"""Which tickers people looked at lately, so `tickercast refresh` fetches their prices first.

A sorted set in Redis (ticker -> time of its last view) when it is configured, shared by every
worker and replica; else this process's memory (then `refresh`, another process, sees none).
At most `MAX_TICKERS` are kept, the least recently viewed dropped first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tickercast.runtime.redis_store import Store

KEY = "tickercast:viewed"
KEEP_SECONDS = 7 * 86400.0
MAX_TICKERS = 5_000


class ViewLog:
    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self._clock = clock
        self._memory: dict[str, float] = {}

    async def viewed(self, ticker: str) -> None:
        now = self._clock()
        if not self.store.shared:
            self._memory.pop(ticker, None)
            self._memory[ticker] = now
            while len(self._memory) > MAX_TICKERS:
                del self._memory[next(iter(self._memory))]
            return

        async def note(r: Any) -> None:
            async with r.pipeline(transaction=False) as pipe:
                pipe.zadd(KEY, {ticker: now})
                pipe.zremrangebyrank(KEY, 0, -MAX_TICKERS - 1)
                await pipe.execute()

        await self.store.call(note)

    async def recent(self) -> list[str]:
        """The tickers viewed in the last week, the latest first."""
        since = self._clock() - KEEP_SECONDS
        if not self.store.shared:
            return [t for t, at in reversed(self._memory.items()) if at >= since]

        async def read(r: Any) -> list[bytes]:
            await r.zremrangebyscore(KEY, "-inf", since)
            return list(await r.zrevrangebyscore(KEY, "+inf", since))

        found = await self.store.call(read) or []
        return [t.decode() if isinstance(t, bytes) else str(t) for t in found]
