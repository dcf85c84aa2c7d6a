"""Fixtures for the price-data tests: the replay server, HTTP clients, caches, providers."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import redis
from pydantic import SecretStr

from tests.data.recorded import NASDAQ_KEY, TIINGO_KEY
from tests.replay import ReplayServer
from tests.yahoo_replay import YahooReplay
from tickercast.cache import Cache, MemoryCache, RedisCache
from tickercast.data.nasdaq import NasdaqDataLinkProvider
from tickercast.data.tiingo import TiingoProvider
from tickercast.data.yahoo import YahooProvider

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


@pytest.fixture
def redis_cache(redis_url: str) -> Iterator[RedisCache]:
    """A cache in the run's own Redis under a namespace of its own, removed afterwards."""
    connection = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
    namespace = f"test-prices-{uuid.uuid4().hex[:12]}"
    yield RedisCache(connection, namespace=namespace, max_items=100)
    keys = list(connection.scan_iter(match=f"{namespace}:*"))
    if keys:
        connection.delete(*keys)
    connection.close()


@pytest.fixture(params=["memory", "redis"])
def cache(request: pytest.FixtureRequest) -> Cache:
    if request.param == "memory":
        return MemoryCache()
    return request.getfixturevalue("redis_cache")


@pytest.fixture
def nasdaq(server: ReplayServer, client: httpx.Client) -> Callable[..., NasdaqDataLinkProvider]:
    def make(
        key: str = NASDAQ_KEY,
        table: str = "WIKI/PRICES",
        timeout: float = 5.0,
        cache: Cache | None = None,
    ) -> NasdaqDataLinkProvider:
        return NasdaqDataLinkProvider(
            SecretStr(key),
            client,
            cache if cache is not None else MemoryCache(),
            table=table,
            url=server.url,
            timeout=timeout,
        )

    return make


@pytest.fixture
def tiingo(server: ReplayServer, client: httpx.Client) -> Callable[..., TiingoProvider]:
    def make(
        key: str = TIINGO_KEY, timeout: float = 5.0, cache: Cache | None = None
    ) -> TiingoProvider:
        return TiingoProvider(
            SecretStr(key),
            client,
            cache if cache is not None else MemoryCache(),
            url=server.url,
            timeout=timeout,
        )

    return make


@pytest.fixture(scope="session")
def _yahoo_session() -> Iterator[YahooReplay]:
    with YahooReplay() as replay:
        yield replay


@pytest.fixture
def yahoo(_yahoo_session: YahooReplay) -> YahooReplay:
    """Yahoo replayed on this machine, its counts at zero and its listings as built."""
    _yahoo_session.reset()
    return _yahoo_session


@pytest.fixture(scope="session")
def yahoo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("yfinance")


@pytest.fixture
def provider_with(yahoo: YahooReplay, yahoo_folder: Path) -> Callable[..., YahooProvider]:
    def make(**options: object) -> YahooProvider:
        options.setdefault("timeout", 5.0)
        return YahooProvider(yahoo_folder, session=yahoo.session(), **options)  # type: ignore[arg-type]

    return make


@pytest.fixture
def provider(provider_with: Callable[..., YahooProvider]) -> YahooProvider:
    return provider_with()
