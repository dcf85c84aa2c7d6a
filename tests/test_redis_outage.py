"""Redis comes and goes under load: both services keep answering, each answer the same as
before, stay ready, say so once in the log and in /metrics, and use Redis again when it is back.

The test runs a `redis-server` of its own on a free port, so stopping it touches nothing else.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import orjson
import pytest
import redis

from tests.conftest import MODEL_KEYS
from tests.support.prices import request_body
from tests.support.procs import ServiceProcess, start_model_service, start_web_app
from tests.support.redis_server import RedisServer, own_redis
from tests.test_restarts import metric

pytestmark = pytest.mark.slow
KEY = MODEL_KEYS[0]
# 3m of prices: too short for the calibrated method, plain Prophet (the mock) then.
WEB_URLS = [
    f"/api/forecast/{t}?periods={p}&window=3m&method=prophet"
    for t in ("AAPL", "IBM")
    for p in (5, 9)
]
BODIES = [orjson.dumps(request_body("MSFT", 50 + i, KEY, periods=5)) for i in range(4)]


class Load:
    """Users asking the web app and the model service the same few things over and over."""

    def __init__(self, web: ServiceProcess, model: ServiceProcess) -> None:
        self.web, self.model = web, model
        self.answers: list[tuple[str, int, bytes]] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._user, args=(i,)) for i in range(4)]

    def _user(self, i: int) -> None:
        with httpx.Client(timeout=30) as client:
            n = i
            while not self._stop.is_set():
                n += 1
                try:
                    if n % 2:
                        what = WEB_URLS[n % len(WEB_URLS)]
                        response = client.get(self.web.url + what)
                    else:
                        what = f"model body {n % len(BODIES)}"
                        response = client.post(self.model.url, content=BODIES[n % len(BODIES)])
                except httpx.HTTPError as exc:
                    self.failures.append(f"{what}: {exc!r}")
                    continue
                self.answers.append((what, response.status_code, response.content))

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()


def redis_up(svc: ServiceProcess, name: str) -> float:
    return metric(httpx.get(f"{svc.url}/metrics", timeout=10).text, f"tickercast_{name}_redis_up")


def wait_until(check: callable, seconds: float) -> bool:  # type: ignore[valid-type]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def services() -> Iterator[tuple[RedisServer, ServiceProcess, ServiceProcess]]:
    with own_redis() as server:
        env = {"REDIS_URL": server.url, "MODEL_RATE_LIMIT": "100000/minute"}
        with (
            start_model_service(MODEL_KEYS, workers=2, mock=True, extra_env=env) as model,
            start_web_app(
                f"{model.url}/", KEY, workers=1, extra_env={"REDIS_URL": server.url}
            ) as web,
        ):
            yield server, model, web


def test_redis_stopped_and_started_under_load(
    services: tuple[RedisServer, ServiceProcess, ServiceProcess],
) -> None:
    server, model, web = services
    store = redis.Redis.from_url(server.url)
    for url in WEB_URLS:  # the first answers take a while (calendars loading): not under load
        assert httpx.get(web.url + url, timeout=60).status_code == 200
    for body in BODIES:
        assert httpx.post(model.url, content=body, timeout=60).status_code == 200
    with Load(web, model) as load:
        assert wait_until(lambda: len(load.answers) > 20, 30)
        assert store.dbsize() > 0  # both caches in use
        server.stop()
        during = len(load.answers)
        assert wait_until(lambda: len(load.answers) > during + 20, 30), "answers stopped"
        for svc, name in ((web, "web"), (model, "model")):
            assert httpx.get(f"{svc.url}/readyz", timeout=10).status_code == 200
            assert wait_until(lambda s=svc, n=name: redis_up(s, n) == 0, 10), name
        server.start()
        for svc, name in ((web, "web"), (model, "model")):
            assert wait_until(lambda s=svc, n=name: redis_up(s, n) == 1, 20), name
        assert wait_until(lambda: store.dbsize() > 0, 10)  # used again: the new server filled
    statuses = [status for _, status, _ in load.answers]
    print(
        f"{len(statuses)} answers, {statuses.count(200)} of them 200, {len(load.failures)} failed"
    )
    assert not load.failures and statuses == [200] * len(statuses)
    first: dict[str, bytes] = {}
    for what, _, content in load.answers:  # the same question, the same answer, all along
        assert first.setdefault(what, content) == content, what
    for svc, workers in ((web, 1), (model, 2)):
        log = svc.log()
        assert 1 <= log.count("Redis is unavailable") <= workers, log
        assert 1 <= log.count("Redis is back") <= workers, log
