"""One small byte cache, shared by every worker and replica through Redis, or kept in this
process: `SharedCache`, async, through the process's fail-open `Store` (a miss, at once, while
Redis is down). The model's answers, the web app's copies of them and the fetched prices all
go through it.

It bounds its size: in this process by an LRU of at most `max_items` entries and `max_bytes`
bytes (`bytes_lru`); in Redis by a TTL on every entry plus an index (a sorted set of insertion
times) trimmed to `max_items`, so a busy service cannot fill the server.

An in-process cache is only used where a miss gives the same answer as a hit, so two workers
with different contents still serve the same bytes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tickercast.runtime.lru import LRU
from tickercast.runtime.redis_store import Store

MAX_BYTES = 64 * 2**20


def bytes_lru(
    max_items: int = 1_000,
    max_bytes: int = MAX_BYTES,
    clock: Callable[[], float] = time.monotonic,
) -> LRU[str, bytes]:
    """An in-process LRU of byte strings, bounded in entries and in bytes; its entries expire
    by `clock` (seconds)."""
    return LRU(max_items, max_size=max_bytes, size_of=len, clock=clock)


class SharedCache:
    """Entries under `namespace:` in Redis through `store` when it is configured (shared by
    every worker and replica; a miss while Redis is down), else in this process's `memory`.
    Every entry has a TTL; beyond `max_items` the oldest are evicted."""

    def __init__(
        self,
        store: Store,
        namespace: str,
        max_items: int,
        memory: LRU[str, bytes] | None = None,
    ) -> None:
        self.store = store
        self.namespace = namespace
        self.max_items = max_items
        self.memory = memory if memory is not None else bytes_lru(max_items)
        self._index = f"{namespace}:index"

    async def get(self, key: str) -> bytes | None:
        if not self.store.shared:
            return self.memory.get(key)
        value = await self.store.call(lambda r: r.get(f"{self.namespace}:{key}"))
        return value if isinstance(value, bytes) else None

    async def get_many(self, keys: list[str]) -> list[bytes | None]:
        """`get` of each key, in one round trip to Redis."""
        if not keys:
            return []
        if not self.store.shared:
            return [self.memory.get(key) for key in keys]
        full = [f"{self.namespace}:{key}" for key in keys]
        values = await self.store.call(lambda r: r.mget(full))
        if not isinstance(values, list):
            return [None] * len(keys)
        return [value if isinstance(value, bytes) else None for value in values]

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        if ttl <= 0:
            return
        if not self.store.shared:
            self.memory.put(key, value, ttl)
            return
        full_key = f"{self.namespace}:{key}"

        async def store(r: Any) -> None:
            async with r.pipeline(transaction=True) as pipe:
                # The entry with its TTL, its insertion time in the index, then the keys
                # beyond `max_items` (third result) leave the index and are deleted.
                pipe.set(full_key, value, px=int(ttl * 1000))
                pipe.zadd(self._index, {full_key: time.time()})
                pipe.zrange(self._index, 0, -self.max_items - 1)
                pipe.zremrangebyrank(self._index, 0, -self.max_items - 1)
                evicted = (await pipe.execute())[2]
            if evicted:
                await r.delete(*evicted)

        await self.store.call(store)

    async def count(self) -> int:
        """How many entries it holds (in Redis: as its index counts them; 0 while down)."""
        if not self.store.shared:
            return len(self.memory)
        return int(await self.store.call(lambda r: r.zcard(self._index)) or 0)
