"""A neighbour flooding the model service with wrong keys from the web app's own address does not
lock the web app out: real processes on loopback, the web app running before the flood and
another started during it."""

from __future__ import annotations

import threading
import time
from collections import Counter

import httpx
import orjson
import pytest

from tests.conftest import MODEL_KEYS
from tests.support.prices import request_body
from tests.support.procs import ServiceProcess, start_model_service, start_web_app

pytestmark = pytest.mark.slow
KEY = MODEL_KEYS[0]
FLOOD = 1_000  # wrong keys at least, from the same address as the web apps (127.0.0.1)
MOST_WRONG = 20_000  # a bound on the flood, should the checks take very long
VIEWS = 25  # forecasts each web app is asked for, each one new to it (so the model is asked)
DEADLINE = 240.0


class Flood:
    """Wrong keys posted one after another until stopped (after FLOOD at least)."""

    def __init__(self, model: ServiceProcess) -> None:
        self.body = orjson.dumps(request_body("AAPL", 40, "not-the-key", periods=5))
        self.url = model.url
        self.answers: list[int] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        with httpx.Client(timeout=30) as client:
            while self.sent < MOST_WRONG and not (self.stopping.is_set() and self.sent >= FLOOD):
                self.answers.append(client.post(self.url, content=self.body).status_code)

    @property
    def sent(self) -> int:
        return len(self.answers)

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + DEADLINE
        while self.sent < count and self.thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.sent >= count, f"only {self.sent} wrong keys sent"


def refusals(web: ServiceProcess, first: int) -> Counter[int]:
    """The statuses of VIEWS forecasts the web app has not shown before, but the 200s."""
    statuses: Counter[int] = Counter()
    with httpx.Client(timeout=60) as client:
        for i in range(first, first + VIEWS):
            url = f"{web.url}/api/forecast/{('AAPL', 'MSFT')[i % 2]}?periods={5 + i}&window=6m"
            statuses[client.get(url).status_code] += 1
    return Counter({status: n for status, n in statuses.items() if status != 200})


def test_a_keyed_web_app_is_not_refused_while_its_address_floods_wrong_keys() -> None:
    extra = {"MODEL_RATE_LIMIT": "100000/minute", "MODEL_KEY_FAILURE_LIMIT": "10/minute"}
    with (
        start_model_service(MODEL_KEYS, workers=1, mock=True, extra_env=extra) as model,
        start_web_app(f"{model.url}/", KEY) as before,
    ):
        flood = Flood(model)
        flood.thread.start()
        try:
            flood.wait_for(20)  # the address is over its wrong keys from here on
            refused_before = refusals(before, 0)
            with start_web_app(f"{model.url}/", KEY) as during:
                refused_during = refusals(during, VIEWS)
            still_flooding = flood.thread.is_alive()
        finally:
            flood.stopping.set()
            flood.thread.join()
    wrong = Counter(flood.answers)
    print(f"wrong keys: {dict(wrong)}; web apps refused: {refused_before}, {refused_during}")
    assert still_flooding and flood.sent < MOST_WRONG
    assert refused_before == Counter() and refused_during == Counter()
    # The flooder is refused at once past its limit, and stays refused (a minute after its first
    # wrong keys the moving window lets it have a few more 403s).
    assert flood.sent >= FLOOD
    assert flood.answers[:11] == [403] * 10 + [429]
    assert set(wrong) == {403, 429} and wrong[429] > wrong[403]
