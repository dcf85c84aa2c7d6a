"""Many users, many servers: two model services and two web apps (2 workers each) behind nginx
(the shipped deploy/nginx/tickercast.conf), then the same with one of each killed mid-load.

Every user asks for its own (ticker, window, horizon, method); every answer must be byte for
byte what one web app in this process gives for the same URL. The model processes run the mock.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import MODEL_KEYS
from tests.support.balancer import start_nginx
from tests.support.procs import ServiceProcess, start_model_service, start_web_app
from tickercast.cli.processes import free_port
from tickercast.settings import WebSettings
from tickercast.web.app import create_app

pytestmark = pytest.mark.slow

USERS = 50
# Every user at once: room in each worker's queue for the whole burst.
BURSTS = {"MODEL_QUEUE_SIZE": "64"}
TICKERS = ("AAPL", "GOOG", "IBM", "MSFT")
WINDOWS = ("1y", "2y", "5y", "max")  # the calibrated method needs 120 sessions and more
METHODS = ("prophet", "calibrated")


def user_urls(user: int) -> list[str]:
    """User `user`'s own choices: no two users share a (ticker, window, horizon, method)."""
    combos = list(itertools.product(TICKERS, WINDOWS, METHODS))
    ticker, window, method = combos[user % len(combos)]
    horizon = 5 + user  # distinct for every user
    query = f"periods={horizon}&window={window}&method={method}"
    return [
        f"/api/forecast/{ticker}?{query}",
        f"/api/backtest/{ticker}?{query}",
    ]


@dataclass
class Cluster:
    url: str
    models: list[ServiceProcess]
    webs: list[ServiceProcess]
    nginx: Path  # its folder: nginx.conf, error.log, access.log

    def upstream_failures(self) -> int:
        """Requests nginx found a replica dead for (each one resent to another replica)."""
        log = (self.nginx / "error.log").read_text(errors="replace")
        return sum(
            ("[error]" in line and "upstream" in line and "no live upstreams" not in line)
            for line in log.splitlines()
        )


@contextlib.contextmanager
def cluster() -> Iterator[Cluster]:
    web_port, model_port = free_port(), free_port()
    model_url = f"http://127.0.0.1:{model_port}/"
    with contextlib.ExitStack() as stack, ThreadPoolExecutor(4) as pool:
        # Started side by side: each takes seconds to import and get ready.
        starts = [
            pool.submit(
                stack.enter_context,
                start_model_service(
                    MODEL_KEYS, workers=2, mock=True, extra_env=BURSTS, own_session=True
                ),
            )
            for _ in range(2)
        ] + [
            pool.submit(
                stack.enter_context,
                start_web_app(model_url, MODEL_KEYS[0], workers=2, own_session=True),
            )
            for _ in range(2)
        ]
        models = [starts[0].result(), starts[1].result()]
        webs = [starts[2].result(), starts[3].result()]
        folder = stack.enter_context(
            start_nginx(
                web_port,
                model_port,
                [w.url.removeprefix("http://") for w in webs],
                [m.url.removeprefix("http://") for m in models],
            )
        )
        yield Cluster(f"http://127.0.0.1:{web_port}", models, webs, folder)


def expected_answers(model_url: str, urls: list[str]) -> dict[str, bytes]:
    """What one web app (in this process, on one model service) answers to each URL."""
    settings = WebSettings(model_api_url=model_url, model_api_key=MODEL_KEYS[0])  # type: ignore[call-arg]
    with TestClient(create_app(settings)) as client:
        out = {}
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (url, response.text)
            out[url] = response.content
        return out


@dataclass
class Load:
    """Results of users hitting the balancer at once."""

    answers: int = 0
    errors: list[str] = field(default_factory=list)
    served_users: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    midway: threading.Event = field(default_factory=threading.Event)
    killed_after: int | None = None  # answers given when `on_midway` had run
    asked_again: int = 0  # GETs whose connection broke, asked once more (as a page does)


def get_as_a_page_does(http: httpx.Client, path: str, load: Load) -> httpx.Response:
    """GET `path` as the pages' script does (static/common.js, `tickercast.fetch`): once more
    when the connection broke, as an answer cut short by a web app killed mid-answer (the
    balancer resends a request only before its answer has begun)."""
    try:
        return http.get(path)
    except httpx.TransportError:
        with load.lock:
            load.asked_again += 1
        return http.get(path)


def run_users(
    url: str,
    expected: dict[str, bytes],
    rounds: int,
    midway_at: int,
    on_midway: Callable[[], None] | None = None,
) -> Load:
    """USERS users at once, each asking for its URLs `rounds` times; `on_midway` runs once
    `midway_at` answers have come back, while the users go on."""
    load = Load()
    start = threading.Barrier(USERS)

    def at_midway() -> None:
        if load.midway.wait(timeout=120) and on_midway is not None:
            on_midway()
            with load.lock:
                load.killed_after = load.answers

    def user(n: int) -> None:
        ok = True
        with httpx.Client(base_url=url, timeout=60) as http:
            start.wait()
            for _ in range(rounds):
                for path in user_urls(n):
                    error = None
                    try:
                        response = get_as_a_page_does(http, path, load)
                        if response.status_code != 200:
                            error = f"{path}: {response.status_code} {response.text[:120]}"
                        elif response.content != expected[path]:
                            error = f"{path}: an answer that is not this user's"
                    except httpx.HTTPError as exc:
                        error = f"{path}: {type(exc).__name__}"
                    with load.lock:
                        load.answers += 1
                        if error:
                            ok = False
                            load.errors.append(error)
                        if load.answers >= midway_at:
                            load.midway.set()
        with load.lock:
            load.served_users += ok

    watcher = threading.Thread(target=at_midway, daemon=True)
    watcher.start()
    with ThreadPoolExecutor(USERS) as pool:
        list(pool.map(user, range(USERS)))
    load.midway.set()
    watcher.join()
    return load


def report(what: str, load: Load) -> str:
    line = (
        f"{what}: {load.served_users}/{USERS} users served, {load.answers} answers, "
        f"{len(load.errors)} errors"
    )
    if load.killed_after is not None:
        line += f" (killed after {load.killed_after} answers)"
    return line + f"; {load.asked_again} asked again after a broken connection"


@dataclass
class Setup:
    cluster: Cluster
    expected: dict[str, bytes]


@pytest.fixture(scope="module")
def setup() -> Iterator[Setup]:
    """One cluster for the module (starting it is most of the time): the kill test, last,
    leaves it with one server of each kind."""
    with cluster() as c:
        urls = [u for n in range(USERS) for u in user_urls(n)]
        assert len(set(urls)) == len(urls)
        yield Setup(c, expected_answers(c.models[0].url + "/", urls))


def test_many_users_on_many_servers_each_get_their_own_answer(setup: Setup) -> None:
    c = setup.cluster
    load = run_users(c.url, setup.expected, rounds=1, midway_at=USERS)
    summary = report("behind nginx", load)
    print(summary)
    assert not load.errors, f"{summary}: {load.errors[:5]}"
    assert load.served_users == USERS
    for svc in c.webs + c.models:  # every server took part
        metrics = httpx.get(f"{svc.url}/metrics").text
        assert 'route="/' in metrics and 'status="200"' in metrics


def test_killing_a_model_service_and_a_web_app_mid_load_costs_no_answer(setup: Setup) -> None:
    c = setup.cluster
    rounds = 2
    total = USERS * len(user_urls(0)) * rounds

    def kill() -> None:  # a quarter of the way in: one of each, workers and all
        c.models[0].kill_all()
        c.webs[0].kill_all()

    failures_before = c.upstream_failures()
    load = run_users(c.url, setup.expected, rounds, total // 4, on_midway=kill)
    resent = c.upstream_failures() - failures_before
    summary = report("kill -9 of a model service and a web app mid-load", load)
    summary += f"; nginx met a dead replica {resent} times and resent the request"
    print(summary)
    assert resent > 0, summary  # the users did meet the dead servers
    assert load.killed_after is not None and load.killed_after < total * 0.9, summary
    assert not load.errors, f"{summary}: {load.errors[:5]}"
    assert load.served_users == USERS
    assert c.models[0].process.poll() is not None and c.webs[0].process.poll() is not None
