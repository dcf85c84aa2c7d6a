"""Fixtures of the web app's unit tests: the app on fake providers and a fake model."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from tests.support import fakes
from tickercast.web.app import create_app
from tickercast.web.model_client import ModelClient

MakeClient = Callable[..., TestClient]


def recorded(sleeps: list[float]) -> Callable[[float], Awaitable[None]]:
    """An async sleep that records its waits instead of waiting."""

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    return sleep


@pytest.fixture
def fake_model() -> fakes.FakeModel:
    return fakes.FakeModel()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(fake_model: fakes.FakeModel, sleeps: list[float]) -> Iterator[MakeClient]:
    """A TestClient of the app; the model client's waits are recorded instead of slept."""
    opened: list[TestClient] = []

    def make(
        providers: dict[str, fakes.FakeProvider] | None = None, **overrides: object
    ) -> TestClient:
        settings = fakes.settings(**overrides)
        model = ModelClient(
            settings.model_api_url.get_secret_value(),
            settings.model_api_key.get_secret_value(),
            timeout=settings.model_api_timeout,
            retries=settings.model_api_retries,
            transport=fake_model.transport(),
            sleep=recorded(sleeps),
        )
        app = create_app(settings, providers=providers or fakes.providers(), model_client=model)
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: MakeClient) -> TestClient:
    return make_client()
