"""The measured cases: latency (cold, next day, repeat), floor, throughput, and a soak."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx

from bench import floor
from bench.data import Series, Windows, request_body
from bench.procs import BENCH_KEY, Service, count_files, memory_mb
from bench.timing import BenchError, Samples, timed_post

PERIODS = 100
TIMEOUT = 300.0
CONTRACT_KEYS = 19


@dataclass
class Latency:
    """Per-request seconds at one N, for one service."""

    cold: Samples = field(default_factory=Samples)
    next_day: Samples = field(default_factory=Samples)
    repeat: Samples = field(default_factory=Samples)


def check_rows(
    response: httpx.Response, rows: int, keys: int | None = None, periods: int = PERIODS
) -> None:
    """The answer holds the `periods` future rows labelled N ... N+periods-1."""
    table = response.json()
    labels = sorted(int(label) for label in table["yhat"])
    if labels != list(range(rows, rows + periods)):
        raise BenchError(f"unexpected row labels {labels[:3]}...{labels[-3:]}")
    if keys is not None and len(table) != keys:
        raise BenchError(f"expected {keys} keys, got {sorted(table)}")


def latency_round(
    client: httpx.Client,
    svc: Service,
    series: Series,
    start: int,
    rows: int,
    key: str | None,
    into: Latency,
    repeats: int,
) -> None:
    """Cold [start, start+rows), next day [start, start+rows+1), then that again `repeats` times."""
    seconds, _ = timed_post(client, svc.url, request_body(series, start, rows, key, PERIODS))
    into.cold.add(seconds)
    next_day = request_body(series, start, rows + 1, key, PERIODS)
    seconds, _ = timed_post(client, svc.url, next_day)
    into.next_day.add(seconds)
    for _ in range(repeats):
        seconds, _ = timed_post(client, svc.url, next_day)
        into.repeat.add(seconds)


def measure_latency(
    ours: Service,
    ref: Service,
    series: Series,
    windows: Windows,
    rows: int,
    reps: int,
    our_repeats: int,
) -> tuple[Latency, Latency, list[int]]:
    """Interleaved rounds on both services (alternating who goes first) over fresh windows."""
    our, theirs = Latency(), Latency()
    warm, *starts = windows.take(rows, reps + 1)
    with httpx.Client(timeout=TIMEOUT) as ours_client, httpx.Client(timeout=TIMEOUT) as ref_client:
        # one untimed round each: checks the answers and warms both up at this size
        _, answer = timed_post(ours_client, ours.url, request_body(series, warm, rows, BENCH_KEY))
        check_rows(answer, rows, CONTRACT_KEYS)
        _, answer = timed_post(ref_client, ref.url, request_body(series, warm, rows, None))
        check_rows(answer, rows)
        for i, start in enumerate(starts):
            rounds: list[Callable[[], None]] = [
                lambda s=start: latency_round(
                    ours_client, ours, series, s, rows, BENCH_KEY, our, our_repeats
                ),
                lambda s=start: latency_round(ref_client, ref, series, s, rows, None, theirs, 1),
            ]
            if i % 2:
                rounds.reverse()
            for run in rounds:
                run()
    return our, theirs, starts


def measure_floor(series: Series, rows: int, starts: list[int]) -> Samples:
    samples = Samples()
    for start in starts:
        samples.add(floor.optimize_seconds(series.frame(start, rows)))
    return samples


def measure_repeat(svc: Service, series: Series, windows: Windows, rows: int, reps: int) -> Samples:
    """One computed answer, then the identical request `reps` times."""
    (start,) = windows.take(rows, 1)
    body = request_body(series, start, rows, BENCH_KEY, PERIODS)
    samples = Samples()
    with httpx.Client(timeout=TIMEOUT) as client:
        timed_post(client, svc.url, body)
        for _ in range(reps):
            samples.add(timed_post(client, svc.url, body)[0])
    return samples


@dataclass(frozen=True)
class Answer:
    busy: int  # 503 answers retried before the forecast came
    worker: str  # the X-Worker header: "host:pid"
    size: int  # bytes of the forecast

    @property
    def pid(self) -> int:
        tail = self.worker.rpartition(":")[2]
        return int(tail) if tail.isdigit() else 0


def post_fresh(url: str, body: bytes) -> Answer:
    """One request on a new connection, as the original client did; 503s are retried."""
    busy = 0
    while True:
        response = httpx.post(url, content=body, timeout=TIMEOUT)
        if response.status_code == 200:
            return Answer(busy, response.headers.get("x-worker", ""), len(response.content))
        if response.status_code != 503:
            raise BenchError(f"{url} answered {response.status_code}: {response.text[:300]}")
        busy += 1
        time.sleep(0.05)


@dataclass
class Throughput:
    requests: int
    seconds: float
    busy: int  # 503 answers retried
    per_worker: list[int]  # answers by each worker (X-Worker), most first

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def measure_throughput(
    services: dict[str, Service], bodies: Callable[[str], list[bytes]], rounds: int, clients: int
) -> dict[str, Throughput]:
    """Requests/s of each service with `clients` concurrent clients, fresh bodies each round
    (`bodies(name)` gives a service its next batch).

    The services take turns, round by round and in alternating order, so a change in the
    machine's load during the run hits them all alike.
    """
    seconds: Counter[str] = Counter()
    answers: dict[str, list[Answer]] = {name: [] for name in services}
    for turn in range(rounds):
        order = list(services.items())
        for name, svc in order if turn % 2 == 0 else reversed(order):
            batch = bodies(name)
            started = time.perf_counter()
            with ThreadPoolExecutor(clients) as pool:
                answers[name] += pool.map(lambda body, url=svc.url: post_fresh(url, body), batch)
            seconds[name] += time.perf_counter() - started
    results = {}
    for name, got in answers.items():
        workers = Counter(answer.worker for answer in got)
        busy = sum(answer.busy for answer in got)
        results[name] = Throughput(
            len(got), seconds[name], busy, sorted(workers.values(), reverse=True)
        )
    return results


@dataclass
class SoakPoint:
    requests: int
    rss_mb: dict[int, float]  # by worker pid
    cached_mb: dict[int, float]  # bytes of the distinct answers each worker gave so far
    files: dict[str, int]


def soak(
    svc: Service,
    series: Series,
    windows: Windows,
    total: int,
    rows: int,
    cold_every: int,
    checkpoints: list[int],
    clients: int = 2,
) -> list[SoakPoint]:
    """`total` requests: every `cold_every`-th a fresh window, the rest repeat a recent one.

    Each worker's in-process cache keeps the answers it computed, so part of its RSS growth
    is expected: the points also count the bytes of the distinct answers each worker gave.
    """
    pick = random.Random(7)
    colds = iter(windows.take(rows, total // cold_every + 1))
    recent: list[bytes] = [request_body(series, next(colds), rows, BENCH_KEY, PERIODS)]
    plan: list[bytes] = []
    for i in range(total):
        if i % cold_every == 0:
            recent = [*recent[-9:], request_body(series, next(colds), rows, BENCH_KEY, PERIODS)]
            plan.append(recent[-1])
        else:
            plan.append(pick.choice(recent))
    pids = svc.worker_pids()
    seen: dict[int, set[bytes]] = {pid: set() for pid in pids}
    cached: Counter[int] = Counter()

    def point(done: int) -> SoakPoint:
        rss = {pid: memory_mb(pid)["VmRSS"] for pid in pids}
        mb = {pid: cached[pid] / 2**20 for pid in pids}
        return SoakPoint(done, rss, mb, count_files(svc.tmp_dir))

    points = [point(0)]
    done = 0
    with ThreadPoolExecutor(clients) as pool:
        for checkpoint in checkpoints:
            batch, plan = plan[: checkpoint - done], plan[checkpoint - done :]
            got = list(pool.map(lambda body: post_fresh(svc.url, body), batch))
            for body, answer in zip(batch, got, strict=True):
                if body not in seen.setdefault(answer.pid, set()):
                    seen[answer.pid].add(body)
                    cached[answer.pid] += answer.size
            done = checkpoint
            points.append(point(done))
    return points
