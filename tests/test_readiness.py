"""Readiness is asked, never assumed: `wait_ready` returns once every worker has said it is
ready (where the answers name their worker), and not before."""

from __future__ import annotations

import http.server
import itertools
import subprocess
import sys
import threading
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import MODEL_KEYS
from tests.support.procs import start_model_service
from tickercast.cli.processes import NotReady, wait_ready


class Workers(http.server.BaseHTTPRequestHandler):
    """Answers /readyz as workers taking turns would: worker `a` ready at once, `b` only
    after its first few answers (it is warming up)."""

    turns = itertools.cycle("ab")
    asked: list[str] = []
    b_warm_after = 3

    def do_GET(self) -> None:  # noqa: N802 (the handler's name)
        worker = next(self.turns)
        self.asked.append(worker)
        ready = worker == "a" or self.asked.count("b") > self.b_warm_after
        self.send_response(200 if ready else 503)
        self.send_header("X-Worker", worker)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def two_workers() -> Iterator[str]:
    Workers.asked = []
    Workers.turns = itertools.cycle("ab")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Workers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/readyz"
    server.shutdown()
    server.server_close()


@pytest.fixture
def alive() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process
    process.kill()
    process.wait()


def test_every_worker_must_say_it_is_ready(two_workers: str, alive) -> None:
    wait_ready(two_workers, alive, "service", timeout=20, workers=2)
    assert Workers.asked.count("b") == Workers.b_warm_after + 1, "not before b was ready"


def test_one_worker_is_enough_when_one_is_asked_for(two_workers: str, alive) -> None:
    wait_ready(two_workers, alive, "service", timeout=20, workers=1)
    assert Workers.asked == ["a"]


def test_a_worker_that_never_comes_is_not_ready(two_workers: str, alive) -> None:
    with pytest.raises(NotReady, match="not ready after"):
        wait_ready(two_workers, alive, "service", timeout=1, workers=3)


@pytest.mark.slow
def test_the_model_service_names_each_ready_worker() -> None:
    """A real service with two workers: once started, both have answered ready."""
    with start_model_service(MODEL_KEYS, workers=2, mock=True) as svc:
        named = set()
        for _ in range(200):
            answer = httpx.get(f"{svc.url}/readyz", timeout=5)
            assert answer.status_code == 200
            named.add(answer.headers["X-Worker"])
            if len(named) == 2:
                break
        assert len(named) == 2
