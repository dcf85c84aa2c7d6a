"""One small byte cache, shared by every worker through Redis or kept in this process.

`AnswerCache` is the one used while serving requests: async, through the process's fail-open
`Store` (a miss while Redis is down). `make_cache(redis_url, namespace=...)` picks a
synchronous implementation for code that runs in threads (the price providers).

All bound their size:
in-process by an LRU of at most `max_items` entries and `max_bytes` bytes; in Redis by a TTL
on every entry plus an index (a sorted set of insertion times) trimmed to `max_items`, so a
busy service cannot fill the server.

An in-process cache is only used where a miss gives the same answer as a hit, so two workers
with different contents still serve the same bytes.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any, Protocol

import redis

from tickercast.store import Store


class Cache(Protocol):
    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes, ttl: float) -> None: ...


class MemoryCache:
    """A thread-safe LRU with per-entry expiry, bounded in entries and in bytes."""

    def __init__(self, max_items: int = 1_000, max_bytes: int = 64 * 2**20) -> None:
        self.max_items = max_items
        self.max_bytes = max_bytes
        self.size = 0
        self._items: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def _drop(self, key: str) -> None:
        self.size -= len(self._items.pop(key)[1])

    def get(self, key: str) -> bytes | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            expires, value = item
            if expires < time.monotonic():
                self._drop(key)
                return None
            self._items.move_to_end(key)
            return value

    def set(self, key: str, value: bytes, ttl: float) -> None:
        if ttl <= 0 or len(value) > self.max_bytes:
            return
        with self._lock:
            if key in self._items:
                self._drop(key)
            self._items[key] = (time.monotonic() + ttl, value)
            self.size += len(value)
            while len(self._items) > self.max_items or self.size > self.max_bytes:
                self._drop(next(iter(self._items)))

    def __len__(self) -> int:
        return len(self._items)


def queue_set(
    pipe: Any, index: str, max_items: int, full_key: str, value: bytes, ttl: float
) -> None:
    """Queue storing one entry on a Redis pipeline (sync or async): the entry with its TTL, its
    insertion time in the index, then the keys beyond `max_items` (third result) are dropped
    from the index; the caller deletes them."""
    pipe.set(full_key, value, px=int(ttl * 1000))
    pipe.zadd(index, {full_key: time.time()})
    pipe.zrange(index, 0, -max_items - 1)
    pipe.zremrangebyrank(index, 0, -max_items - 1)


class RedisCache:
    """Entries under `namespace:`, each with a TTL; the oldest beyond `max_items` are evicted.

    A Redis outage never fails a request: reads miss and writes are dropped.
    """

    def __init__(self, client: redis.Redis, namespace: str, max_items: int = 10_000) -> None:
        self.client = client
        self.namespace = namespace
        self.max_items = max_items
        self._index = f"{namespace}:index"

    def get(self, key: str) -> bytes | None:
        try:
            value = self.client.get(f"{self.namespace}:{key}")
        except redis.RedisError:
            return None
        return value if isinstance(value, bytes) else None

    def set(self, key: str, value: bytes, ttl: float) -> None:
        if ttl <= 0:
            return
        full = f"{self.namespace}:{key}"
        try:
            with self.client.pipeline(transaction=True) as pipe:
                queue_set(pipe, self._index, self.max_items, full, value, ttl)
                evicted = pipe.execute()[2]
            if evicted:
                self.client.delete(*evicted)
        except redis.RedisError:
            return

    def __len__(self) -> int:
        try:
            return int(self.client.zcard(self._index))
        except redis.RedisError:
            return 0


def make_cache(
    redis_url: str | None, namespace: str, max_items: int, max_bytes: int = 64 * 2**20
) -> Cache:
    """Redis when a URL is given (`max_bytes` is then Redis' own `maxmemory` to set), else
    this process's memory."""
    if redis_url:
        client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        return RedisCache(client, namespace=namespace, max_items=max_items)
    return MemoryCache(max_items=max_items, max_bytes=max_bytes)


class AnswerCache:
    """Async: entries in Redis through `store` when it is configured (shared by every worker
    and replica; a miss while Redis is down), else in this process's `memory`."""

    def __init__(
        self, store: Store, namespace: str, max_items: int, memory: MemoryCache | None = None
    ) -> None:
        self.store = store
        self.namespace = namespace
        self.max_items = max_items
        self.memory = memory if memory is not None else MemoryCache(max_items=max_items)
        self._index = f"{namespace}:index"

    async def get(self, key: str) -> bytes | None:
        if not self.store.shared:
            return self.memory.get(key)
        value = await self.store.call(lambda r: r.get(f"{self.namespace}:{key}"))
        return value if isinstance(value, bytes) else None

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        if ttl <= 0:
            return
        if not self.store.shared:
            self.memory.set(key, value, ttl)
            return

        async def store(r: Any) -> None:
            async with r.pipeline(transaction=True) as pipe:
                queue_set(pipe, self._index, self.max_items, f"{self.namespace}:{key}", value, ttl)
                evicted = (await pipe.execute())[2]
            if evicted:
                await r.delete(*evicted)

        await self.store.call(store)
