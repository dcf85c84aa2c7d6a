"""Separate processes (replicas) sharing one Redis: a forecast computed by one is a cache hit
for the others, and a key's rate limit holds across them. The test prints the hit rate."""

from __future__ import annotations

import httpx
import orjson
import pytest

from tests.conftest import MODEL_KEYS
from tests.support.prices import request_body
from tests.support.procs import ServiceProcess, start_model_service, start_web_app
from tests.test_restarts import metric

pytestmark = pytest.mark.slow
KEY = MODEL_KEYS[0]


@pytest.fixture
def shared_redis(redis_url: str) -> str:
    return redis_url


def cache_counts(*services: ServiceProcess) -> tuple[float, float]:
    hits = misses = 0.0
    for svc in services:
        text = httpx.get(f"{svc.url}/metrics", timeout=10).text
        hits += metric(text, "tickercast_model_cache_total", result="hit")
        misses += metric(text, "tickercast_model_cache_total", result="miss")
    return hits, misses


def test_model_replicas_share_forecasts_and_rate_limits(shared_redis: str) -> None:
    # Each forecast here costs a hundredth of a second of CPU: 12 of them fit in 120 ms.
    env = {"REDIS_URL": shared_redis, "MODEL_RATE_LIMIT": "120/minute"}
    bodies = [orjson.dumps(request_body("IBM", 40 + i, KEY, periods=5)) for i in range(10)]
    with (
        start_model_service(MODEL_KEYS, mock=True, extra_env=env) as one,
        start_model_service(MODEL_KEYS, mock=True, extra_env=env) as two,
    ):
        replicas = (one, two)
        answers: dict[bytes, bytes] = {}
        for i in range(60):  # users spread over both replicas, 10 distinct questions
            body = bodies[i % 10]
            response = httpx.post(replicas[i % 3 % 2].url, content=body, timeout=30)
            assert response.status_code == 200, response.text
            assert answers.setdefault(body, response.content) == response.content
        hits, misses = cache_counts(one, two)
        print(f"cache hit rate across two replicas: {hits / (hits + misses):.0%} of 60 requests")
        assert (hits, misses) == (50, 10)  # each question computed once, by one of them

        # 10 computed so far under a limit of 12 (120 ms) a minute for this key, on both together
        fresh = [orjson.dumps(request_body("AAPL", 40 + i, KEY, periods=5)) for i in range(3)]
        codes = [
            httpx.post(replicas[i % 2].url, content=b, timeout=30) for i, b in enumerate(fresh)
        ]
        assert [c.status_code for c in codes] == [200, 200, 429]
        assert int(codes[2].headers["retry-after"]) >= 1
        other_key = orjson.dumps(request_body("AAPL", 42, MODEL_KEYS[1], periods=5))
        assert httpx.post(one.url, content=other_key, timeout=30).status_code == 200
        assert httpx.post(two.url, content=bodies[0], timeout=30).status_code == 200  # cached


def test_web_replicas_share_model_answers(shared_redis: str) -> None:
    env = {"REDIS_URL": shared_redis}
    url = "/api/forecast/MSFT?periods=7&window=6m"
    with (
        start_model_service(MODEL_KEYS, mock=True) as model,
        start_web_app(f"{model.url}/", KEY, extra_env=env) as web_one,
        start_web_app(f"{model.url}/", KEY, extra_env=env) as web_two,
    ):
        first = httpx.get(web_one.url + url, timeout=60)
        second = httpx.get(web_two.url + url, timeout=60)
        assert first.status_code == second.status_code == 200
        assert first.content == second.content
        text = httpx.get(f"{model.url}/metrics").text
        asked = metric(text, "tickercast_model_http_requests_total", route="/")
        assert asked == 1  # the second replica found the first one's answer
        text = httpx.get(f"{web_two.url}/metrics").text
        assert metric(text, "tickercast_web_model_answers_total", result="hit") == 1
