"""The shared cache: bounded in-process, and in a real Redis shared by every worker; a Redis
that does not answer is a miss, at once."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest
import redis

from tickercast.runtime.cache import SharedCache, bytes_lru
from tickercast.runtime.redis_store import Store


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def test_without_redis_it_is_this_processes_lru() -> None:
    async def scenario() -> tuple[bytes | None, bytes | None, int]:
        cache = SharedCache(Store(None), "t", 2, bytes_lru(2))
        await cache.set("a", b"1", ttl=60)
        await cache.set("gone", b"x", ttl=0)  # ttl 0: not cached
        return await cache.get("a"), await cache.get("gone"), await cache.count()

    assert anyio.run(scenario) == (b"1", None, 1)


def test_in_redis_it_is_shared_and_bounded(redis_url: str, redis_client: redis.Redis) -> None:
    async def scenario() -> tuple[bytes | None, int]:
        one, two = Store(redis_url), Store(redis_url)  # two workers
        try:
            first, second = SharedCache(one, "t", 3), SharedCache(two, "t", 3)
            await first.set("k", b"value", ttl=60)
            seen = await second.get("k")
            for i in range(10):
                await first.set(f"n{i}", b"x" * 10, ttl=60)
            return seen, await second.count()
        finally:
            await one.close()
            await two.close()

    assert anyio.run(scenario) == (b"value", 3)
    assert sorted(redis_client.keys("t:n*")) == [b"t:n7", b"t:n8", b"t:n9"]
    assert 0 < redis_client.pttl("t:n9") <= 60_000


def test_a_redis_outage_is_a_miss_not_an_error() -> None:
    async def scenario() -> tuple[bytes | None, bool]:
        store = Store("redis://127.0.0.1:1/0")
        cache = SharedCache(store, "t", 3)
        await cache.set("k", b"v", ttl=60)
        value = await cache.get("k")
        await store.close()
        return value, store.up

    assert anyio.run(scenario) == (None, False)  # down: later calls answer None at once
