"""Workers replaced under steady traffic (a small MAX_REQUESTS) never take a service down, and
/metrics keeps adding up every worker's counts, the replaced ones' included."""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import orjson
import pytest

from tests.conftest import MODEL_KEYS
from tests.prices import request_body
from tests.procs import ServiceProcess, start_model_service, start_web_app

pytestmark = pytest.mark.slow
KEY = MODEL_KEYS[0]
RECYCLE = {"MAX_REQUESTS": "15", "MAX_REQUESTS_JITTER": "5", "MODEL_RATE_LIMIT": "100000/minute"}
USERS, REQUESTS = 4, 200


def metric(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels`."""
    total = 0.0
    for line in text.splitlines():
        match = re.fullmatch(r"(\w+)(?:\{(.*)\})? (\S+)", line)
        if not match or match[1] != name:
            continue
        have = dict(re.findall(r'(\w+)="([^"]*)"', match[2] or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            total += float(match[3])
    return total


def steady_load(
    send: Callable[[httpx.Client, int], httpx.Response], requests: int = REQUESTS
) -> tuple[list[httpx.Response], int]:
    """`requests` sent by USERS users, each on its own keep-alive connection, and how many were
    sent twice: a worker that is replaced closes its kept-alive connections, and a request that
    crossed that close on the wire is sent again on a new connection, as browsers and proxies
    do (RFC 9112, 9.3.1). Every request is answered, on the first try or that second one."""
    again = 0

    def once_more_if_closed(client: httpx.Client, i: int) -> httpx.Response:
        nonlocal again
        try:
            return send(client, i)
        except (httpx.NetworkError, httpx.RemoteProtocolError):
            again += 1
            return send(client, i)

    def user(first: int) -> list[httpx.Response]:
        with httpx.Client(timeout=30) as client:
            return [once_more_if_closed(client, i) for i in range(first, requests, USERS)]

    with ThreadPoolExecutor(USERS) as pool:
        answers = [r for got in pool.map(user, range(USERS)) for r in got]
    print(f"{requests} requests, {again} sent again after a replaced worker closed them")
    return answers, again


def workers_booted(svc: ServiceProcess) -> int:
    return svc.log().count("Booting worker")


def assert_still_serving(svc: ServiceProcess) -> None:
    assert svc.process.poll() is None, svc.log()
    assert "Worker failed to boot" not in svc.log()
    assert httpx.get(f"{svc.url}/readyz", timeout=10).status_code == 200


def test_model_service_replaces_workers_without_a_failure() -> None:
    bodies = [orjson.dumps(request_body("AAPL", 40 + i, KEY, periods=5)) for i in range(10)]
    with start_model_service(MODEL_KEYS, workers=2, mock=True, extra_env=RECYCLE) as svc:
        answers, again = steady_load(lambda client, i: client.post(svc.url, content=bodies[i % 10]))
        assert [r.status_code for r in answers] == [200] * REQUESTS
        pids = {r.headers["x-worker"] for r in answers}
        # the first two and those that replaced them (a worker checks its count every 0.1 s,
        # so it may serve a few more than MAX_REQUESTS before it goes)
        assert len(pids) >= 2 + REQUESTS // 60
        assert workers_booted(svc) >= len(pids)
        assert again <= USERS * len(pids)  # at most each user's connection, once per worker
        assert_still_serving(svc)
        text = httpx.get(f"{svc.url}/metrics", timeout=10).text
        assert metric(text, "tickercast_model_requests_total", status="200") == REQUESTS
        assert metric(text, "tickercast_model_cache_total") == REQUESTS
        assert metric(text, "tickercast_model_in_flight") == 0


def test_web_app_replaces_workers_without_a_failure() -> None:
    route = "/api/forecast/{ticker}"
    with (
        start_model_service(MODEL_KEYS, workers=1, mock=True, extra_env=RECYCLE) as model,
        start_web_app(model.url, KEY, workers=2, extra_env=RECYCLE) as web,
    ):
        tickers = ("AAPL", "MSFT", "IBM", "GOOG")

        def view(client: httpx.Client, i: int) -> httpx.Response:
            url = f"{web.url}/api/forecast/{tickers[i % 4]}?periods={5 + i % 7}&window=3m"
            return client.get(url)

        answers, again = steady_load(view)
        assert [r.status_code for r in answers] == [200] * REQUESTS
        assert workers_booted(web) >= 2 + REQUESTS // 60
        assert again <= USERS * workers_booted(web)
        assert_still_serving(web)
        assert_still_serving(model)
        text = httpx.get(f"{web.url}/metrics", timeout=10).text
        assert metric(text, "tickercast_web_requests_total", route=route) == REQUESTS
        assert metric(text, "tickercast_web_requests_total", route=route, status="200") == REQUESTS
