"""Many model answers at once: one batch request for what the answer cache lacks, each answer
equal to its single request's and cached under that request's key, each failure its own."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import orjson
import pytest

from tests.support import fakes
from tickercast.errors import ServiceBusy
from tickercast.model.api import create_app as create_model_app
from tickercast.settings import ModelSettings
from tickercast.web import batched
from tickercast.web.app import forecaster_from
from tickercast.web.forecasts import Forecaster
from tickercast.web.metrics import WebMetrics
from tickercast.web.model_client import ModelAnswer, ModelClient, ModelRejected, model_request

DS = [d.strftime("%Y-%m-%d") for d in fakes.sessions(200)]


def request(level: float, **steps: int) -> dict[str, Any]:
    y = [level + (i % 7) * 0.5 + i * 0.1 for i in range(len(DS))]
    return model_request(DS, y, "B", 0.8, "calibrated", **(steps or {"periods": 10}))


class Counting(httpx.AsyncBaseTransport):
    """The model app in this process, each POST's path counted."""

    def __init__(self, **overrides: Any) -> None:
        settings = ModelSettings(
            model_api_keys=fakes.KEY,  # type: ignore[arg-type]
            model_mock=True,
            **{"model_rate_limit": "100000/second", **overrides},
        )
        self.app = httpx.ASGITransport(create_model_app(settings))
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return await self.app.handle_async_request(request)


def forecaster(transport: Counting) -> Forecaster:
    model = ModelClient(fakes.MODEL_URL, fakes.KEY, timeout=30, retries=0, transport=transport)
    return forecaster_from(fakes.settings(), fakes.providers(), model, WebMetrics())


async def both(transport: Counting, kind: Any, requests: dict[str, Any]) -> tuple[Any, Any]:
    """The batch's outcomes, then each request's single answer from a fresh cache."""
    many = await forecaster(transport).model_answers(kind, requests)
    single = forecaster(transport)
    alone = {}
    for name, body in requests.items():
        try:
            alone[name] = (await single.model_answer(kind, body)).content
        except ModelRejected as exc:
            alone[name] = exc
    return many, alone


def test_a_batch_answers_each_series_as_its_single_request_does() -> None:
    requests = {"A": request(100.0), "B": request(50.0), "C": request(7.0, periods=3)}
    transport = Counting()
    many, alone = anyio.run(both, transport, "forecast", requests)
    assert transport.paths[0] == "/batch"
    assert transport.paths.count("/batch") == 1  # all three in one request
    for name in requests:
        assert isinstance(many[name], ModelAnswer)
        assert many[name].content == alone[name]
        assert many[name].version != "unknown"


def test_backtests_go_in_one_request_too() -> None:
    requests = {n: request(level, horizon=5, cutoffs=3) for n, level in (("A", 80), ("B", 9))}
    transport = Counting()
    many, alone = anyio.run(both, transport, "backtest", requests)
    assert transport.paths[0] == "/backtest"
    for name in requests:
        assert orjson.loads(many[name].content) == orjson.loads(alone[name])


def test_one_bad_series_fails_alone() -> None:
    bad = request(100.0)
    bad["y"] = bad["y"][:3]
    bad["ds"] = bad["ds"][:3]
    requests = {"GOOD": request(100.0), "BAD": bad}
    many, alone = anyio.run(both, Counting(), "forecast", requests)
    assert isinstance(many["GOOD"], ModelAnswer)
    assert isinstance(many["BAD"], ModelRejected)
    assert isinstance(alone["BAD"], ModelRejected)
    assert many["BAD"].detail == alone["BAD"].detail


def test_answers_are_cached_under_their_single_requests_keys() -> None:
    requests = {"A": request(100.0), "B": request(60.0)}
    transport = Counting()
    use_cases = forecaster(transport)

    async def go() -> tuple[Any, Any, Any]:
        first = await use_cases.model_answers("forecast", requests)
        again = await use_cases.model_answers("forecast", requests)
        single = await use_cases.model_answer("forecast", requests["B"])
        return first, again, single

    first, again, single = anyio.run(go)
    assert transport.paths == ["/batch"]  # the repeat and the single request hit the cache
    assert again["A"].content == first["A"].content
    assert single.content == first["B"].content


def test_a_batch_refused_as_a_whole_fails_each_series() -> None:
    transport = Counting(model_request_rate_limit="1/minute")
    use_cases = forecaster(transport)

    async def go() -> Any:
        await use_cases.model_answers("forecast", {"A": request(100.0)})
        return await use_cases.model_answers("forecast", {"B": request(5.0), "C": request(6.0)})

    outcomes = anyio.run(go)
    assert all(isinstance(outcomes[n], ServiceBusy) for n in ("B", "C"))


def test_requests_that_differ_beyond_an_items_fields_go_apart_in_chunks() -> None:
    requests = {f"S{i}": request(10.0 + i) for i in range(5)}
    requests["W"] = {**request(3.0), "interval_width": 0.5}
    made = batched.groups("forecast", requests, chunk=2)
    assert [list(items) for _, items in made] == [["S0", "S1"], ["S2", "S3"], ["S4"], ["W"]]
    assert all(set(shared) == {"interval_width", "method"} for shared, _ in made)
    assert all(set(item) == {"ds", "y", "periods", "freq"} for _, i in made for item in i.values())


@pytest.mark.parametrize("chunk", [1, 3])
def test_chunks_answer_every_series(chunk: int) -> None:
    requests = {f"S{i}": request(10.0 + i) for i in range(4)}
    transport = Counting()
    outcomes = anyio.run(
        lambda: forecaster(transport).model_answers("forecast", requests, chunk=chunk)
    )
    assert list(outcomes) == list(requests)
    assert all(isinstance(o, ModelAnswer) for o in outcomes.values())
    assert transport.paths.count("/batch") == -(-4 // chunk)
