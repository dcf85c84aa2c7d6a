"""Workers replaced under steady traffic (a small MAX_REQUESTS) never take a service down nor
break a request, and /metrics keeps adding up every worker's counts, the replaced ones' too."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import orjson
import pytest

from tests.conftest import MODEL_KEYS
from tests.support.prices import request_body
from tests.support.procs import ServiceProcess, start_model_service, start_web_app

pytestmark = pytest.mark.slow
KEY = MODEL_KEYS[0]
RECYCLE = {"MAX_REQUESTS": "15", "MAX_REQUESTS_JITTER": "5", "MODEL_RATE_LIMIT": "100000/minute"}
USERS = 4
MOST_SECONDS = 240.0  # a bound on the load, should the machine be very slow


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


def workers_booted(svc: ServiceProcess) -> int:
    return svc.log().count("Booting worker")


def steady_load(
    svc: ServiceProcess, send: Callable[[httpx.Client, int], httpx.Response], replacements: int
) -> tuple[list[httpx.Response], int]:
    """Requests sent by USERS users, each on its own keep-alive connection, until `svc` has
    replaced `replacements` workers, and how many broke on the wire (a connection closed under a
    request: none may, since a retiring worker stops accepting before it goes)."""
    initial = workers_booted(svc)
    done = threading.Event()
    broken = 0

    def user(first: int) -> list[httpx.Response]:
        nonlocal broken
        got = []
        with httpx.Client(timeout=30) as client:
            i = first
            while not done.is_set():
                try:
                    got.append(send(client, i))
                except (httpx.NetworkError, httpx.RemoteProtocolError):
                    broken += 1
                i += USERS
        return got

    with ThreadPoolExecutor(USERS) as pool:
        running = [pool.submit(user, first) for first in range(USERS)]
        deadline = time.monotonic() + MOST_SECONDS
        while workers_booted(svc) - initial < replacements and time.monotonic() < deadline:
            time.sleep(0.2)
        done.set()
        answers = [r for future in running for r in future.result()]
    replaced = workers_booted(svc) - initial
    print(f"{len(answers)} answers, {replaced} workers replaced, {broken} broken on the wire")
    assert replaced >= replacements, f"only {replaced} workers replaced"
    return answers, broken


def assert_still_serving(svc: ServiceProcess) -> None:
    assert svc.process.poll() is None, svc.log()
    assert "Worker failed to boot" not in svc.log()
    assert httpx.get(f"{svc.url}/readyz", timeout=10).status_code == 200


def test_model_service_replaces_workers_without_a_failure() -> None:
    bodies = [orjson.dumps(request_body("AAPL", 40 + i, KEY, periods=5)) for i in range(10)]
    with start_model_service(MODEL_KEYS, workers=2, mock=True, extra_env=RECYCLE) as svc:
        answers, broken = steady_load(svc, lambda c, i: c.post(svc.url, content=bodies[i % 10]), 50)
        assert broken == 0
        assert [r.status_code for r in answers] == [200] * len(answers)
        pids = {r.headers["x-worker"] for r in answers}
        assert len(pids) >= 4  # the first two and at least two that replaced them
        assert workers_booted(svc) >= len(pids)
        assert_still_serving(svc)
        text = httpx.get(f"{svc.url}/metrics", timeout=10).text
        answered = metric(text, "tickercast_model_http_requests_total", route="/", status="200")
        assert answered == len(answers)
        assert metric(text, "tickercast_model_cache_total") == len(answers)
        assert metric(text, "tickercast_model_in_flight") == 0


def test_web_app_replaces_workers_without_a_failure() -> None:
    route = "/api/forecast/{ticker}"
    with (
        start_model_service(MODEL_KEYS, workers=1, mock=True, extra_env=RECYCLE) as model,
        start_web_app(f"{model.url}/", KEY, workers=2, extra_env=RECYCLE) as web,
    ):
        tickers = ("AAPL", "MSFT", "IBM", "GOOG")

        def view(client: httpx.Client, i: int) -> httpx.Response:
            url = f"{web.url}/api/forecast/{tickers[i % 4]}?periods={5 + i % 7}&window=6m"
            return client.get(url)

        answers, broken = steady_load(web, view, 10)
        assert broken == 0
        assert [r.status_code for r in answers] == [200] * len(answers)
        assert workers_booted(model) >= 2  # the web app's kept-alive model connections too
        assert_still_serving(web)
        assert_still_serving(model)
        text = httpx.get(f"{web.url}/metrics", timeout=10).text
        assert metric(text, "tickercast_web_requests_total", route=route) == len(answers)
        assert metric(text, "tickercast_web_requests_total", route=route, status="200") == len(
            answers
        )
