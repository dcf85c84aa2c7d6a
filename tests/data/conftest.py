"""Fixtures for the price-data tests: the replay server, HTTP clients, caches, providers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from tests.support.recorded import NASDAQ_KEY, TIINGO_KEY
from tests.support.replay import ReplayServer
from tickercast.data.base import PriceProvider
from tickercast.data.nasdaq import NasdaqDataLinkProvider
from tickercast.data.prices import PriceBook
from tickercast.data.tiingo import TiingoProvider
from tickercast.runtime.cache import bytes_lru
from tickercast.runtime.redis_store import Store

FIXTURES = Path(__file__).parents[1] / "fixtures" / "providers"


@pytest.fixture(scope="session")
def _replay_session() -> Iterator[ReplayServer]:
    with ReplayServer(FIXTURES) as server:
        yield server


@pytest.fixture
def server(_replay_session: ReplayServer) -> Iterator[ReplayServer]:
    """The replay server with its request counts at zero; every request must have matched."""
    _replay_session.reset()
    yield _replay_session
    assert _replay_session.unmatched == [], "a request had no recorded response"


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as c:
        yield c


class Workers:
    """Makes price books that share their cache, as the workers of a deployment do: one LRU in
    this process, or a Redis through a store of each book's own. Use and close them on one
    event loop (a store's connections belong to it)."""

    def __init__(self, redis_url: str | None) -> None:
        self.memory = bytes_lru()
        self.redis_url = redis_url
        self.stores: list[Store] = []

    def book(self, providers: dict[str, PriceProvider]) -> PriceBook:
        self.stores.append(Store(self.redis_url))
        return PriceBook(providers, self.stores[-1], memory=self.memory)

    async def close(self) -> None:
        for store in self.stores:
            await store.close()


@pytest.fixture(params=["memory", "redis"])
def workers(request: pytest.FixtureRequest) -> Workers:
    url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    return Workers(url)


@pytest.fixture
def nasdaq(server: ReplayServer, client: httpx.Client) -> Callable[..., NasdaqDataLinkProvider]:
    def make(
        key: str = NASDAQ_KEY,
        table: str = "WIKI/PRICES",
        timeout: float = 5.0,
    ) -> NasdaqDataLinkProvider:
        return NasdaqDataLinkProvider(
            SecretStr(key),
            client,
            table=table,
            url=server.url,
            timeout=timeout,
        )

    return make


@pytest.fixture
def tiingo(server: ReplayServer, client: httpx.Client) -> Callable[..., TiingoProvider]:
    def make(key: str = TIINGO_KEY, timeout: float = 5.0) -> TiingoProvider:
        return TiingoProvider(
            SecretStr(key),
            client,
            url=server.url,
            timeout=timeout,
        )

    return make
