"""Simultaneous users on loopback: each user one keep-alive connection, sending its next
request as soon as the last is answered. Bounded by time or by a number of requests.

A 503 or 429 with a Retry-After is counted apart from errors: the user was told plainly to
come back later. Anything else that is not a 200 (or a connection that failed) is an error.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

# A request: (method, url, body or None)
Request = tuple[str, str, bytes | None]


@dataclass
class LoadResult:
    users: int
    seconds: float
    latencies: list[float] = field(default_factory=list)  # of the 200 answers
    statuses: Counter[str] = field(default_factory=Counter)

    @property
    def answered(self) -> int:
        return self.statuses["200"]

    @property
    def told_to_retry(self) -> int:
        return self.statuses["retry-after"]

    @property
    def errors(self) -> int:
        return sum(self.statuses.values()) - self.answered - self.told_to_retry

    @property
    def per_second(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        """Seconds; nan without answers."""
        if len(self.latencies) < 2:
            return self.latencies[0] if self.latencies else float("nan")
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[int(p) - 1]


async def _user(
    client: httpx.AsyncClient,
    next_request: Callable[[], Request | None],
    deadline: float,
    result: LoadResult,
) -> None:
    while time.perf_counter() < deadline:
        request = next_request()
        if request is None:
            return
        method, url, body = request
        started = time.perf_counter()
        try:
            response = await client.request(method, url, content=body)
        except httpx.HTTPError as exc:
            result.statuses[type(exc).__name__] += 1
            continue
        if response.status_code == 200:
            result.latencies.append(time.perf_counter() - started)
            result.statuses["200"] += 1
        elif response.status_code in (429, 503) and response.headers.get("retry-after"):
            result.statuses["retry-after"] += 1
        else:
            result.statuses[str(response.status_code)] += 1


async def _run(
    requests: Callable[[int], Request], users: int, seconds: float, total: int | None
) -> LoadResult:
    result = LoadResult(users, 0.0)
    counter = iter(range(total if total is not None else 2**62))

    def next_request() -> Request | None:
        i = next(counter, None)
        return None if i is None else requests(i)

    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(*(_user(client, next_request, deadline, result) for _ in range(users)))
        result.seconds = time.perf_counter() - started
    return result


def run_load(
    requests: Callable[[int], Request],
    users: int,
    seconds: float = 10.0,
    total: int | None = None,
) -> LoadResult:
    """`users` users for `seconds` (or until `total` requests were sent); `requests(i)` is the
    i-th request."""
    return asyncio.run(_run(requests, users, seconds, total))


def summary(result: LoadResult) -> str:
    def ms(p: float) -> str:
        return f"{result.percentile(p) * 1000:,.0f}"

    return (
        f"{result.users} users: {result.per_second:,.0f} answers/s, "
        f"p50 {ms(50)} ms, p95 {ms(95)} ms, p99 {ms(99)} ms, "
        f"{result.errors} errors, {result.told_to_retry} told to retry "
        f"({sum(result.statuses.values())} requests in {result.seconds:.1f} s)"
    )
