"""`python -m bench.chaos` (`make chaos`): the whole stack under faults, on loopback.

The web app (two workers) reaches the model service (the mock model), Redis, PostgreSQL (the
track record) and Yahoo (replayed on this machine, behind its CONNECT proxy) each through a TCP
proxy of its own (tests/support/faulty_proxy.py), which adds latency, resets connections,
black-holes them (accepted, never answered) or partitions (refuses) on a schedule, while
simulated users load ticker pages, forecasts, backtests and the track record. Then every
fault is lifted and the users go on for `SETTLE` seconds.

The report: answers by route and status; each distinct error a user saw (each must be a
sentence: a JSON message, or a page with one); the forecasts the API showed against those the
record's database holds once the buffer has flushed; the seconds to recover after each fault
(from its lifting to the end of the last failed answer to a request made after it); the
machine's load beside the timings. Targets: no answer without a sentence, no 5xx but 503/504
with Retry-After while a fault lasts, no 5xx from 30 s after the last fault is lifted, no shown
forecast lost. `--short` is the version the tests run.
"""

from __future__ import annotations

import argparse
import collections
import html
import os
import random
import re
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from tests.conftest import MODEL_KEYS
from tests.support.faulty_proxy import FaultyProxy, Mode
from tests.support.postgres_server import postgres_server
from tests.support.procs import ServiceProcess, start_model_service, start_web_app
from tests.support.redis_server import own_redis
from tests.support.yahoo_replay import YahooReplay

from tickercast.record import db

TARGETS = ("model", "redis", "postgres", "yahoo")
FAULTS: tuple[Mode, ...] = ("latency", "reset", "blackhole", "partition")
LATENCY = 1.0  # seconds added to every chunk in "latency"
TICKERS = ("AAPL", "MSFT", "IBM", "GOOG", "SAP.DE", "7203.T")  # the sample's, and Yahoo's
ROUTES = ("page", "forecast", "backtest", "record")
USER_TIMEOUT = 35.0  # past Heroku's router's 30 s: an answer later than that is a failure
SETTLE = 30.0  # after the last fault: no 5xx from then on
AFTER_SETTLE = 5.0  # answers looked at after SETTLE
FLUSH_WAIT = 60.0  # the longest wait for the record's buffer to reach the database
SENTENCE = re.compile(r"^[A-Z0-9^].*[.!?]$", re.S)
PAGE_MESSAGE = re.compile(r'<p class="message[^"]*"[^>]*>(.*?)</p>', re.S)


def log(message: str) -> None:
    print(f"[chaos {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Fault:
    target: str
    mode: Mode
    seconds: float


def schedule(short: bool) -> list[Fault]:
    """Every mode on every target; the short version one mode per target, each mode once."""
    if short:
        return [Fault(t, m, 4.0) for t, m in zip(TARGETS, FAULTS[1:] + FAULTS[:1], strict=True)]
    return [Fault(t, m, 10.0) for m in FAULTS for t in TARGETS]


@dataclass
class Answer:
    route: str
    started: float
    ended: float
    status: int  # 0: no HTTP answer at all
    retry_after: bool
    message: str  # the error's sentence ("" when none was found)
    shown: tuple[str, str, str, int] | None = None  # a forecast the API showed


@dataclass
class Run:
    answers: list[Answer] = field(default_factory=list)
    faults: list[tuple[Fault, float, float]] = field(default_factory=list)  # fault, on, lifted
    lifted_all: float = 0.0
    loads: list[float] = field(default_factory=list)
    stored: set[Any] = field(default_factory=set)  # the forecasts the record holds at the end
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, answer: Answer) -> None:
        with self.lock:
            self.answers.append(answer)


def error_message(response: httpx.Response) -> str:
    """The sentence an error answer carries, or "" when there is none."""
    if "json" in response.headers.get("content-type", ""):
        try:
            message = response.json().get("message")
        except ValueError:
            return ""
        return message if isinstance(message, str) and SENTENCE.match(message) else ""
    found = PAGE_MESSAGE.search(response.text)
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).split()) if found else ""
    return text if SENTENCE.match(text) else ""


def ask(client: httpx.Client, rng: random.Random) -> Answer:
    route, ticker, periods = rng.choice(ROUTES), rng.choice(TICKERS), rng.randint(3, 12)
    path = {
        "page": f"/t/{ticker}",
        "forecast": f"/api/forecast/{ticker}?periods={periods}",
        "backtest": f"/api/backtest/{ticker}?periods={periods}",
        "record": f"/api/track-record/{ticker}",
    }[route]
    started = time.monotonic()
    try:
        response = client.get(path)
    except httpx.HTTPError as exc:
        return Answer(route, started, time.monotonic(), 0, False, f"({type(exc).__name__})")
    ended = time.monotonic()
    status = response.status_code
    shown = None
    if route == "forecast" and status == 200:
        data = response.json()
        shown = (data["ticker"], data["source"], data["method"], len(data["forecast"]))
    message = "" if status == 200 else error_message(response)
    return Answer(route, started, ended, status, "retry-after" in response.headers, message, shown)


def users(url: str, run: Run, stop: threading.Event, count: int) -> list[threading.Thread]:
    def user(seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=url, timeout=USER_TIMEOUT) as client:
            while not stop.is_set():
                run.add(ask(client, rng))

    return [threading.Thread(target=user, args=(i,), daemon=True) for i in range(count)]


@dataclass
class Stack:
    web: ServiceProcess
    proxies: dict[str, FaultyProxy]
    database_url: str


@contextmanager
def stack() -> Iterator[Stack]:
    """Every service, each dependency of the web app behind a proxy of its own."""
    with ExitStack() as stack:
        redis = stack.enter_context(own_redis())
        postgres = stack.enter_context(postgres_server())
        database = postgres.create_database("chaos")
        engine = db.make_engine(database)
        db.upgrade(engine)  # as `tickercast db upgrade` does before a release
        engine.dispose()
        yahoo = stack.enter_context(YahooReplay())
        model = stack.enter_context(start_model_service(keys=MODEL_KEYS, workers=2, mock=True))
        ports = {
            "model": int(model.url.rsplit(":", 1)[1]),
            "redis": redis.port,
            "postgres": postgres.port,
            "yahoo": int(yahoo.proxy_url.rsplit(":", 1)[1]),
        }
        proxies = {
            name: stack.enter_context(FaultyProxy(("127.0.0.1", port)))
            for name, port in ports.items()
        }
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="chaos-yfinance-"))
        env = {
            "REDIS_URL": f"redis://{proxies['redis'].address}/0",
            "DATABASE_URL": f"postgresql://postgres@{proxies['postgres'].address}/chaos",
            "YAHOO_PRICES": "true",
            "YAHOO_PROXY": f"http://{proxies['yahoo'].address}",
            "YAHOO_CA_BUNDLE": str(yahoo.ca_file),
            "YAHOO_CACHE_DIR": folder,
        }
        web = stack.enter_context(
            start_web_app(f"http://{proxies['model'].address}/", MODEL_KEYS[0], 2, env)
        )
        yield Stack(web, proxies, database)


def chaos(short: bool = False, user_count: int = 6) -> Run:
    """Run the schedule on a fresh stack; the answers and when each fault was on."""
    faults = schedule(short)
    run = Run()
    with stack() as s:
        stop = threading.Event()
        threads = users(s.web.url, run, stop, user_count)
        for thread in threads:
            thread.start()
        time.sleep(3.0 if short else 10.0)  # the day's first answers, before any fault
        for fault in faults:
            log(f"{fault.target}: {fault.mode} for {fault.seconds:g} s")
            proxy = s.proxies[fault.target]
            on = time.monotonic()
            proxy.set(fault.mode, LATENCY)
            time.sleep(fault.seconds)
            proxy.set("pass")
            lifted = time.monotonic()
            run.faults.append((fault, on, lifted))
            run.loads.append(os.getloadavg()[0])
            time.sleep(fault.seconds)
        run.lifted_all = time.monotonic()
        log(f"every fault lifted; the users go on for {SETTLE + AFTER_SETTLE:g} s")
        time.sleep(SETTLE + AFTER_SETTLE)
        stop.set()
        for thread in threads:
            thread.join(timeout=USER_TIMEOUT + 5)
        run.loads.append(os.getloadavg()[0])
        shown = {a.shown for a in run.answers if a.shown is not None}
        run.stored = stored_forecasts(s.database_url, shown)
    return run


def stored_forecasts(url: str, shown: set[Any]) -> set[Any]:
    """The forecasts the record holds, once it holds every one shown or `FLUSH_WAIT` passed."""
    import psycopg

    deadline = time.monotonic() + FLUSH_WAIT
    stored: set[Any] = set()
    while True:
        with psycopg.connect(url) as connection:
            rows = connection.execute(
                "SELECT ticker, source, method, horizon FROM forecasts WHERE kind = 'live'"
            ).fetchall()
        stored = {tuple(row) for row in rows}
        if shown <= stored or time.monotonic() > deadline:
            return stored
        time.sleep(1.0)


@dataclass
class Verdict:
    no_sentence: list[Answer]
    bad_5xx_in_fault: list[Answer]
    late_5xx: list[Answer]
    lost: set[Any]
    recovery: list[tuple[Fault, float]]

    @property
    def ok(self) -> bool:
        return not (self.no_sentence or self.bad_5xx_in_fault or self.late_5xx or self.lost)


def judge(run: Run) -> Verdict:
    errors = [a for a in run.answers if a.status != 200]
    no_sentence = [a for a in errors if not a.message or a.status == 0]
    bad = [
        a
        for a in errors
        if a.status >= 500
        and not (a.status in (503, 504) and a.retry_after)
        and a.started < run.lifted_all
    ]
    late = [a for a in errors if a.status >= 500 and a.started >= run.lifted_all + SETTLE]
    shown = {a.shown for a in run.answers if a.shown is not None}
    lost = shown - run.stored
    recovery = []
    for i, (fault, _on, lifted) in enumerate(run.faults):
        until = run.faults[i + 1][1] if i + 1 < len(run.faults) else run.lifted_all + SETTLE
        failed = [
            a.ended
            for a in run.answers
            if lifted <= a.started < until and (a.status >= 500 or a.status == 0)
        ]
        recovery.append((fault, max(failed) - lifted if failed else 0.0))
    return Verdict(no_sentence, bad, late, lost, recovery)


def phase(run: Run, moment: float) -> str:
    """The fault on at `moment`, or the last one lifted before it."""
    said = "before any fault"
    for fault, on, lifted in run.faults:
        if on <= moment < lifted:
            return f"during {fault.target} {fault.mode}"
        if moment >= lifted:
            said = f"after {fault.target} {fault.mode}"
    return said


def report(run: Run, verdict: Verdict) -> str:
    lines = ["## Chaos run", ""]
    by_route = collections.Counter((a.route, a.status) for a in run.answers)
    lines.append(f"- answers: {len(run.answers)}; by route and status:")
    for route in ROUTES:
        counts = {s: n for (r, s), n in sorted(by_route.items()) if r == route}
        lines.append(f"  - {route}: {counts}")
    errors = collections.Counter(
        (a.status, a.retry_after, a.message or "(no sentence)")
        for a in run.answers
        if a.status != 200
    )
    lines.append("- errors users saw (status, Retry-After, what they read): count")
    for (status, retry, message), n in errors.most_common():
        lines.append(f"  - {status}{' +Retry-After' if retry else ''}: {message[:160]!r}: {n}")
    failed = collections.Counter(
        (a.route, a.status, phase(run, a.started))
        for a in run.answers
        if a.status >= 500 or a.status == 0
    )
    lines.append("- failed answers (5xx, or none within the users' timeout) by route and phase:")
    for (route, status, when), n in sorted(failed.items(), key=str):
        lines.append(f"  - {route} {status} {when}: {n}")
    shown = {a.shown for a in run.answers if a.shown is not None}
    lines.append(
        f"- forecasts shown by the API: {len(shown)} distinct; lost from the record: "
        f"{len(verdict.lost)} {sorted(verdict.lost)[:5] if verdict.lost else ''}"
    )
    lines.append("- seconds to recover after each fault (load average at its lifting):")
    for (fault, seconds), load in zip(verdict.recovery, run.loads, strict=False):
        lines.append(
            f"  - {fault.target} {fault.mode} {fault.seconds:g} s: {seconds:.1f} s "
            f"(load {load:.2f})"
        )
    slowest = max((a.ended - a.started for a in run.answers), default=0.0)
    lines.append(f"- slowest answer: {slowest:.1f} s; load average at the end {run.loads[-1]:.2f}")
    lines.append(
        f"- targets: answers without a sentence {len(verdict.no_sentence)}; 5xx other than "
        f"503/504 with Retry-After during faults {len(verdict.bad_5xx_in_fault)}; 5xx from "
        f"{SETTLE:g} s after the last fault {len(verdict.late_5xx)}; shown forecasts lost "
        f"{len(verdict.lost)}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__)
    parser.add_argument("--short", action="store_true", help="one fault per target (the test's)")
    parser.add_argument("--users", type=int, default=6, help="simultaneous users")
    args = parser.parse_args(argv)
    run = chaos(args.short, args.users)
    verdict = judge(run)
    print(report(run, verdict))
    sys.exit(0 if verdict.ok else 1)


if __name__ == "__main__":
    main()
