"""The tickers viewed in the last week, for `tickercast refresh`: in Redis, else in memory."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tests.support.redis_server import redis_server, url_of
from tickercast.cli.processes import free_port
from tickercast.runtime.redis_store import Store
from tickercast.web.recent import KEEP_SECONDS, ViewLog


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    port = free_port()
    with redis_server(port):
        yield url_of(port)


@pytest.mark.parametrize("shared", [False, True])
def test_the_last_week_s_views_latest_first(shared, request):
    now = [1_000_000.0]

    async def scenario() -> list[str]:
        store = Store(request.getfixturevalue("redis_url") if shared else None)
        log = ViewLog(store, clock=lambda: now[0])
        await log.viewed("OLD")
        now[0] += KEEP_SECONDS + 1
        for ticker in ("AAPL", "SAP.DE", "AAPL"):
            now[0] += 1
            await log.viewed(ticker)
        other = ViewLog(store, clock=lambda: now[0])  # another worker on the same store
        found = await (other if shared else log).recent()
        await store.close()
        return found

    assert asyncio.run(scenario()) == ["AAPL", "SAP.DE"]
