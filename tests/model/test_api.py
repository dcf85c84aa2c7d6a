"""The model service's HTTP layer in-process: one error shape on every path, auth first,
limits, busy and timeout answers, the shared cache. The engines here are small fakes; the real
Prophet engine is exercised over HTTP in test_service_process.py."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace

import httpx
import numpy as np
import orjson
import pytest
from fastapi.testclient import TestClient

from tests.support.loop import run
from tickercast import __version__
from tickercast.contract import RESPONSE_KEYS, ForecastRequest, parse_request
from tickercast.model import compute
from tickercast.model.api import create_app
from tickercast.model.engine import MockEngine, ProphetEngine
from tickercast.model.prophet_seam.forecasting import FitTimeout
from tickercast.runtime.cache import bytes_lru
from tickercast.settings import ModelSettings

KEY = "k-123"
GOOD = {"key": KEY, "ds": ["2024-01-01", "2024-01-02", "2024-01-03"], "y": [1, 2, 3], "periods": 3}


def settings(**overrides: object) -> ModelSettings:
    return ModelSettings(model_api_keys=f"{KEY},other", model_mock=True, **overrides)


class CountingEngine(MockEngine):
    def __init__(self) -> None:
        self.calls = 0

    def forecast(self, req: ForecastRequest) -> dict[str, np.ndarray]:
        self.calls += 1
        return super().forecast(req)


class RaisingEngine(MockEngine):
    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def forecast(self, req: ForecastRequest) -> dict[str, np.ndarray]:
        raise self.exc


def post(client: TestClient, payload: object, **kw: object) -> httpx.Response:
    content = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    return client.post("/", content=content, **kw)  # type: ignore[arg-type]


def assert_error(resp: httpx.Response, status: int, message: str) -> None:
    assert resp.status_code == status
    assert resp.headers["content-type"] == "application/json"
    assert resp.json() == {"message": message}


ERROR_CASES = [
    (b"{not json", 400, "invalid data format"),
    (b"[1, 2, 3]", 400, "invalid data format"),
    ({"ds": [], "y": []}, 401, "no key submitted"),
    ({**GOOD, "key": "nope"}, 403, "invalid key"),
    ({"key": KEY, "y": [1, 2]}, 400, "invalid input: ds is missing"),
    ({**GOOD, "y": [1, "x", 3]}, 400, "invalid input: y[1] is not a number"),
    ({**GOOD, "periods": 0}, 400, "invalid input: periods must be a positive integer"),
    (
        {**GOOD, "freq": "weekly"},
        400,
        "invalid input: unknown freq 'weekly'; use 'D', 'B' or "
        "an exchange calendar code such as 'XNYS'",
    ),
    (b"x" * 5000, 413, "request too large"),
]


@pytest.mark.parametrize(("payload", "status", "message"), ERROR_CASES)
def test_every_error_path_has_the_one_shape_and_the_service_keeps_serving(
    payload: object, status: int, message: str
) -> None:
    with TestClient(create_app(settings(model_max_body_bytes=4000))) as client:
        assert_error(post(client, payload), status, message)
        assert post(client, GOOD).status_code == 200


def test_key_is_checked_before_the_input() -> None:
    with TestClient(create_app(settings())) as client:
        assert_error(post(client, {"ds": "bad", "y": None}), 401, "no key submitted")
        assert_error(post(client, {"key": "bad", "ds": "bad"}), 403, "invalid key")


def test_any_content_type_or_none_is_read_as_json() -> None:
    with TestClient(create_app(settings())) as client:
        for headers in ({}, {"content-type": "text/plain"}, {"content-type": "application/json"}):
            assert post(client, GOOD, headers=headers).status_code == 200


def test_success_shape() -> None:
    with TestClient(create_app(settings())) as client:
        data = post(client, GOOD).json()
    assert list(data) == list(RESPONSE_KEYS)
    assert all(list(col) == ["3", "4", "5"] for col in data.values())
    assert list(data["ds"].values()) == ["2024-01-04", "2024-01-05", "2024-01-08"]


def test_answers_name_the_model_version_in_a_header_and_keep_their_keys() -> None:
    with TestClient(create_app(settings(), cache=bytes_lru())) as client:
        first, cached = post(client, GOOD), post(client, GOOD)
        days = [f"2024-01-{d:02d}" for d in range(1, 21)]
        series = {"key": KEY, "ds": days, "y": [float(d % 5) for d in range(20)]}
        backtest = client.post("/backtest", content=orjson.dumps({**series, "horizon": 2}))
    assert backtest.status_code == 200, backtest.text
    for resp in (first, cached, backtest):
        assert resp.headers["X-Model-Version"] == f"mock/{__version__}"
    assert list(cached.json()) == list(RESPONSE_KEYS)


def test_the_prophet_engine_names_the_fit_engine_of_each_request() -> None:
    plain = parse_request(GOOD)
    engine = ProphetEngine()
    assert engine.method(plain).release == f"fast/{__version__}"
    assert engine.method(replace(plain, method="calibrated")).release == f"fast/{__version__}"
    both = replace(plain, engine="cmdstan", method="calibrated")
    assert engine.method(both).release.startswith("cmdstan/")


def test_include_history_labels_rows_from_zero() -> None:
    with TestClient(create_app(settings())) as client:
        data = post(client, {**GOOD, "include_history": True}).json()
    assert list(data["yhat"]) == [str(i) for i in range(6)]
    assert data["ds"]["0"] == "2024-01-01"


def test_rate_limit_counts_computed_forecasts_per_key_by_their_cpu() -> None:
    # Each forecast of 100 steps costs about 34 ms of CPU (model/compute.py): two fit in 100.
    cost = compute.fit_cost_ms(parse_request({**GOOD, "periods": 100}))
    assert 2 * compute.units(cost) <= 10 < 3 * compute.units(cost)
    with TestClient(create_app(settings(model_rate_limit="100/minute"))) as client:
        first, second, third = ({**GOOD, "periods": p} for p in (100, 101, 102))
        assert post(client, first).status_code == post(client, second).status_code == 200
        assert [post(client, first).status_code for _ in range(5)] == [200] * 5  # cached
        resp = post(client, third)
        assert_error(resp, 429, "rate limit exceeded")
        assert 1 <= int(resp.headers["retry-after"]) <= 61
        assert post(client, {**third, "key": "other"}).status_code == 200  # another key


def test_request_rate_limit_counts_cached_answers_too() -> None:
    with TestClient(create_app(settings(model_request_rate_limit="3/minute"))) as client:
        assert [post(client, GOOD).status_code for _ in range(4)] == [200, 200, 200, 429]


def test_fit_timeout_is_503_with_retry_after() -> None:
    app = create_app(settings(), engine=RaisingEngine(FitTimeout("stopped")))
    with TestClient(app) as client:
        resp = post(client, GOOD)
    assert_error(resp, 503, "fit timed out")
    assert resp.headers["retry-after"] == "5"


def test_unexpected_error_is_generic_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(settings(), engine=RaisingEngine(RuntimeError("internal detail 42")))
    with TestClient(app, raise_server_exceptions=False) as client:
        resp = post(client, GOOD)
        assert resp.status_code == 500
        assert "internal detail" not in resp.text
        assert resp.json() == {"message": "internal error; the details are in the service log"}
    assert "internal detail 42" in caplog.text
    assert KEY not in caplog.text


def test_unknown_path_and_method_use_the_error_shape() -> None:
    with TestClient(create_app(settings())) as client:
        assert_error(client.get("/nowhere"), 404, "not found")
        assert_error(client.get("/"), 405, "method not allowed")


def test_busy_worker_with_full_queue_answers_503() -> None:
    fitting, release = threading.Event(), threading.Event()

    class BlockingEngine(MockEngine):
        def forecast(self, req: ForecastRequest) -> dict[str, np.ndarray]:
            fitting.set()
            release.wait(10)
            return super().forecast(req)

    tight = settings(model_fit_slots=1, model_queue_size=0, model_cache_ttl=0)
    app = create_app(tight, engine=BlockingEngine())

    async def scenario() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://model") as client:
            first = asyncio.create_task(client.post("/", content=orjson.dumps(GOOD)))
            # The first holds the only fit slot once its fit has begun: asked, not slept on.
            assert await asyncio.to_thread(fitting.wait, 10)
            second = await client.post("/", content=orjson.dumps(GOOD))
            release.set()
            return [await first, second]

    first, second = run(scenario())
    assert first.status_code == 200
    assert_error(second, 503, "service busy, retry later")
    assert second.headers["retry-after"] == "5"


def test_cache_answers_repeats_with_identical_bytes() -> None:
    engine = CountingEngine()
    with TestClient(create_app(settings(), engine=engine, cache=bytes_lru())) as client:
        first, second = post(client, GOOD).content, post(client, GOOD).content
    assert first == second and engine.calls == 1


def test_cache_off() -> None:
    engine = CountingEngine()
    with TestClient(create_app(settings(model_cache_ttl=0), engine=engine)) as client:
        post(client, GOOD), post(client, GOOD)
    assert engine.calls == 2


def test_redis_cache_is_shared_by_workers(redis_url: str) -> None:
    """Two apps (two workers, or two replicas) with one Redis compute a forecast once."""
    url = redis_url
    engines = [CountingEngine(), CountingEngine()]
    bodies = []
    for engine in engines:
        app = create_app(settings(redis_url=url), engine=engine)
        with TestClient(app) as client:
            bodies.append(post(client, GOOD).content)
    assert bodies[0] == bodies[1]
    assert [e.calls for e in engines] == [1, 0]


def test_health_ready_metrics_and_openapi() -> None:
    with TestClient(create_app(settings())) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/readyz").status_code == 200
        post(client, GOOD), post(client, {**GOOD, "key": "bad"})
        text = client.get("/metrics").text
        assert 'tickercast_model_http_requests_total{route="/",status="200"} 1.0' in text
        assert 'tickercast_model_http_requests_total{route="/",status="403"} 1.0' in text
        assert "tickercast_model_requests_total" not in text  # one request counter
        spec = client.get("/openapi.json").json()
    body = spec["paths"]["/"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["key", "ds", "y"]
    assert {"400", "401", "403", "413", "429", "503"} <= set(
        spec["paths"]["/"]["post"]["responses"]
    )
    assert {"/healthz", "/readyz", "/metrics"} <= set(spec["paths"])


def test_a_worker_runs_as_many_fits_at_once_as_it_has_slots() -> None:
    both_running = threading.Barrier(2, timeout=5)

    class MeetingEngine(MockEngine):
        def forecast(self, req: ForecastRequest) -> dict[str, np.ndarray]:
            both_running.wait()  # breaks (and fails the request) unless two run at once
            return super().forecast(req)

    app = create_app(settings(model_fit_slots=2, model_cache_ttl=0), engine=MeetingEngine())
    other = {**GOOD, "periods": 4}

    async def scenario() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://model") as client:
            return list(
                await asyncio.gather(
                    client.post("/", content=orjson.dumps(GOOD)),
                    client.post("/", content=orjson.dumps(other)),
                )
            )

    answers = run(scenario())
    assert [a.status_code for a in answers] == [200, 200]


def test_metrics_count_every_route_and_every_fit() -> None:
    with TestClient(create_app(settings())) as client:
        post(client, GOOD), post(client, GOOD), post(client, {**GOOD, "key": "bad"})
        client.get("/healthz")
        text = client.get("/metrics").text
    assert 'tickercast_model_http_requests_total{route="/",status="200"} 2.0' in text
    assert 'tickercast_model_http_requests_total{route="/",status="403"} 1.0' in text
    assert 'tickercast_model_http_requests_total{route="/healthz",status="200"} 1.0' in text
    assert 'tickercast_model_http_request_seconds_count{route="/",status="200"} 2.0' in text
    assert 'tickercast_model_fits_total{outcome="ok"} 1.0' in text  # the second was cached
    assert "tickercast_model_fit_seconds_count 1.0" in text
    assert 'tickercast_model_cache_total{result="hit"} 1.0' in text


def test_the_request_id_is_echoed_or_made() -> None:
    with TestClient(create_app(settings())) as client:
        assert post(client, GOOD, headers={"X-Request-ID": "abc-1"}).headers["x-request-id"] == (
            "abc-1"
        )
        made = post(client, GOOD, headers={"X-Request-ID": "bad id"}).headers["x-request-id"]
        assert made != "bad id" and len(made) == 32
