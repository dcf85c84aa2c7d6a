"""The shared cache: bounded in-process, and in a real Redis shared by every worker."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis

from tickercast.cache import MemoryCache, RedisCache, make_cache


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def test_memory_cache_is_an_lru_with_expiry() -> None:
    cache = MemoryCache(max_items=2)
    cache.set("a", b"1", ttl=60)
    cache.set("b", b"2", ttl=60)
    assert cache.get("a") == b"1"  # a is now the most recent
    cache.set("c", b"3", ttl=60)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (b"1", None, b"3")
    cache.set("d", b"4", ttl=0.01)
    time.sleep(0.02)
    assert cache.get("d") is None
    cache.set("e", b"5", ttl=0)  # ttl 0: not cached
    assert cache.get("e") is None and len(cache) <= 2


def test_memory_cache_is_bounded_in_bytes() -> None:
    cache = MemoryCache(max_items=100, max_bytes=25)
    for key in "abc":
        cache.set(key, b"x" * 10, ttl=60)
    assert (cache.get("a"), cache.size) == (None, 20)  # the oldest went to make room
    cache.set("b", b"y" * 5, ttl=60)  # replacing counts the new size only
    assert cache.size == 15 and cache.get("b") == b"y" * 5
    cache.set("huge", b"z" * 26, ttl=60)  # larger than the whole cache: not kept
    assert cache.get("huge") is None and cache.get("c") == b"x" * 10


def test_redis_cache_is_shared_and_bounded(redis_url: str, redis_client: redis.Redis) -> None:
    one = make_cache(redis_url, "t", max_items=3)
    two = make_cache(redis_url, "t", max_items=3)
    assert isinstance(one, RedisCache)
    one.set("k", b"value", ttl=60)
    assert two.get("k") == b"value"
    for i in range(10):
        one.set(f"n{i}", b"x" * 10, ttl=60)
    assert len(one) == 3
    assert sorted(redis_client.keys("t:n*")) == [b"t:n7", b"t:n8", b"t:n9"]
    assert 0 < redis_client.pttl("t:n9") <= 60_000


def test_redis_outage_is_a_miss_not_an_error() -> None:
    cache = make_cache("redis://127.0.0.1:1/0", "t", max_items=3)
    cache.set("k", b"v", ttl=60)
    assert cache.get("k") is None
