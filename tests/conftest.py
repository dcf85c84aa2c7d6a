"""Fixtures shared by every test: a clean environment, a Redis, free ports, real service
processes."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.procs import ServiceProcess, start_model_service
from tests.support.redis_server import RunRedis, redis_for_the_run
from tests.support.yahoo_replay import YahooReplay
from tickercast.data.yahoo import YahooProvider
from tickercast.settings import ModelSettings, WebSettings

PROJECT_ENV = {name.upper() for name in ModelSettings.model_fields} | {
    name.upper() for name in WebSettings.model_fields
}
PROJECT_ENV |= {"PROMETHEUS_MULTIPROC_DIR"}

MODEL_KEYS = ("test-key-one", "test-key-two")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--screenshot",
        metavar="PATH",
        default=None,
        help="where the screenshot test saves its picture (default: a temporary folder)",
    )


@pytest.fixture(scope="session")
def _run_redis() -> Iterator[RunRedis]:
    """This run's own redis-server on a free port, started on first use."""
    with redis_for_the_run() as server:
        yield server


@pytest.fixture
def redis_url(_run_redis: RunRedis) -> Iterator[str]:
    """The URL of an empty Redis database of this run's own server (emptied again after)."""
    with _run_redis.database() as url:
        yield url


@pytest.fixture(scope="session", autouse=True)
def _no_yahoo() -> Iterator[None]:
    """No app or service a test starts asks Yahoo (the internet): those that test it point it
    at the local replay (`yahoo`)."""
    patch = pytest.MonkeyPatch()
    patch.setenv("YAHOO_PRICES", "false")
    yield
    patch.undo()


@pytest.fixture(scope="session", autouse=True)
def _record_out_of_the_working_folder(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    """Apps and services that module and session fixtures start keep their track record in a
    SQLite file of the run's own, not in the working folder (the default)."""
    patch = pytest.MonkeyPatch()
    record = tmp_path_factory.mktemp("run-record") / "record.sqlite3"
    patch.setenv("DATABASE_URL", f"sqlite:///{record}")
    yield
    patch.undo()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test sees the developer's own settings or secrets; the track record of a web app a
    test starts goes to a SQLite file of the test's own, never the working folder's."""
    for name in list(os.environ):
        if name.upper() in PROJECT_ENV:
            monkeypatch.delenv(name)
    # No test reaches Yahoo: the ones that test it point it at the local replay.
    monkeypatch.setenv("YAHOO_PRICES", "false")
    record = tmp_path_factory.mktemp("record") / "record.sqlite3"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{record}")


@pytest.fixture(scope="session")
def model_service() -> Iterator[ServiceProcess]:
    """The real model service: Prophet, two gunicorn workers, no cache (every answer computed)."""
    env = {"MODEL_CACHE_TTL": "0", "MODEL_QUEUE_SIZE": "16"}  # tests send bursts to it
    with start_model_service(keys=MODEL_KEYS, workers=2, extra_env=env) as svc:
        yield svc


@pytest.fixture(scope="session")
def mock_service() -> Iterator[ServiceProcess]:
    with start_model_service(keys=MODEL_KEYS, workers=1, mock=True) as svc:
        yield svc


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
