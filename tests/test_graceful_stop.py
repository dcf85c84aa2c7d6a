"""SIGTERM lets the requests in flight finish before the process exits (a rolling deploy, a
scale-down): the web app waiting on a slow model, and the model service in the middle of fits."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import orjson
import pytest

from tests.conftest import MODEL_KEYS
from tests.support.prices import request_body
from tests.support.procs import start_model_service, start_web_app

pytestmark = pytest.mark.slow

IN_FLIGHT = 4
MODEL_DELAY = 2.0  # seconds the slow model takes: SIGTERM lands while every request waits


class SlowModel:
    """A loopback proxy to the mock model service that holds every forecast MODEL_DELAY s."""

    def __init__(self, upstream: str) -> None:
        self.received = 0
        self.all_in = threading.Event()
        lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with lock:
                    outer.received += 1
                    if outer.received >= IN_FLIGHT:
                        outer.all_in.set()
                outer.all_in.wait(timeout=30)
                threading.Event().wait(MODEL_DELAY)
                answer = httpx.post(upstream, content=body, timeout=30)
                self.send_response(answer.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"

    def __enter__(self) -> SlowModel:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def slow_model() -> Iterator[SlowModel]:
    with start_model_service(MODEL_KEYS, mock=True) as mock, SlowModel(mock.url + "/") as slow:
        yield slow


def test_sigterm_lets_the_web_app_finish_the_pages_in_flight(slow_model: SlowModel) -> None:
    with start_web_app(slow_model.url, MODEL_KEYS[0], workers=2) as web:

        def ask(periods: int) -> httpx.Response:
            url = f"{web.url}/api/forecast/AAPL?periods={periods}&window=1y"
            return httpx.get(url, timeout=60)

        with ThreadPoolExecutor(IN_FLIGHT) as pool:
            answers = [pool.submit(ask, 5 + n) for n in range(IN_FLIGHT)]
            assert slow_model.all_in.wait(timeout=30), "the requests never reached the model"
            web.process.send_signal(signal.SIGTERM)
            results = [a.result() for a in answers]
        assert web.process.wait(timeout=30) == 0
        log = web.log()
    assert [r.status_code for r in results] == [200] * IN_FLIGHT, log
    assert [len(r.json()["forecast"]) for r in results] == [5 + n for n in range(IN_FLIGHT)]
    with pytest.raises(httpx.ConnectError):  # and then it is gone
        httpx.get(f"{web.url}/healthz", timeout=2)


def test_sigterm_lets_the_model_service_finish_the_fits_in_flight() -> None:
    sent = 6
    env = {"MODEL_FIT_SLOTS": "1", "MODEL_QUEUE_SIZE": "8"}  # fits one after another
    with start_model_service(MODEL_KEYS, workers=1, extra_env=env) as model:

        def ask(periods: int) -> httpx.Response:
            body = request_body("AAPL", 1_000, MODEL_KEYS[0], periods=periods, freq="B")
            body["engine"] = "cmdstan"  # fits long enough to be in flight when SIGTERM lands
            return httpx.post(model.url + "/", content=orjson.dumps(body), timeout=120)

        with ThreadPoolExecutor(sent) as pool:
            answers = [pool.submit(ask, 10 + n) for n in range(sent)]
            _wait_all_arrived(model.url, sent)
            model.process.send_signal(signal.SIGTERM)
            results = [a.result() for a in answers]
        assert model.process.wait(timeout=60) == 0
        log = model.log()
    assert [r.status_code for r in results] == [200] * sent, log
    assert [len(r.json()["yhat"]) for r in results] == [10 + n for n in range(sent)]


def _wait_all_arrived(url: str, n: int) -> None:
    """Until all `n` requests reached the service (in flight or answered) and some are still
    in flight: a connection not yet accepted at SIGTERM is refused, not "in flight"."""
    pause = threading.Event()
    for _ in range(1200):
        text = httpx.get(f"{url}/metrics", timeout=5).text
        in_flight = _sample(text, "tickercast_model_in_flight")
        answered = _sample(text, 'tickercast_model_http_requests_total{route="/",status="200"}')
        if in_flight + answered >= n:
            assert in_flight >= 2, "the fits ended before SIGTERM could land: use longer series"
            return
        pause.wait(0.05)
    raise AssertionError(f"the {n} requests never all arrived")


def _sample(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name):
            return float(line.split()[-1])
    return 0.0
