"""The fail-open Redis store: None instead of an error, one attempt in a while when down, the
change said once each way; rate limits fall back to this process."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.support.loop import run
from tickercast.cli.processes import free_port
from tickercast.errors import RateLimited
from tickercast.runtime.ratelimit import RateLimit
from tickercast.runtime.redis_store import FIRST_RETRY, Store


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def nowhere() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there


def test_without_redis_every_call_is_none_and_nothing_changes() -> None:
    changes: list[bool] = []
    store = Store(None, on_change=changes.append)
    assert run(store.call(lambda r: r.ping())) is None
    assert not store.shared and changes == [True]


def test_down_answers_none_at_once_and_tries_again_later(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "tickercast.runtime.redis_store")
    clock, changes, tries = Clock(), [], []
    store = Store(nowhere(), on_change=changes.append, clock=clock)

    async def ping(r: Any) -> Any:
        tries.append(clock.now)
        return await r.ping()

    async def scenario() -> list[object]:
        got = [await store.call(ping) for _ in range(5)]  # one try, then none until the wait
        clock.now += FIRST_RETRY
        got.append(await store.call(ping))  # one more try, which fails too
        await store.close()
        return got

    assert run(scenario()) == [None] * 6
    assert tries == [1000.0, 1000.0 + FIRST_RETRY]
    assert changes == [True, False] and not store.up
    assert caplog.text.count("Redis is unavailable") == 1


def test_rate_limit_counts_in_this_process_while_redis_is_down() -> None:
    store = Store(nowhere())
    limit = RateLimit("2/minute", store, "test")

    async def scenario() -> None:
        await limit.hit("key-a")
        await limit.hit("key-a")
        with pytest.raises(RateLimited) as caught:
            await limit.hit("key-a")
        assert 1 <= caught.value.retry_after <= 61
        await limit.hit("key-b")
        await store.close()

    run(scenario())


def test_rate_limit_is_shared_through_redis(redis_url: str) -> None:
    """Two processes' limiters (two stores) on one Redis count together."""
    stores = [Store(redis_url), Store(redis_url)]
    one, two = (RateLimit("3/minute", store, "test") for store in stores)

    async def scenario() -> None:
        for limit in (one, two, one):
            await limit.hit("key-a")
        with pytest.raises(RateLimited):
            await two.hit("key-a")
        for store in stores:
            await store.close()

    run(scenario())
