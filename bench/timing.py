"""Small timing helpers: timed HTTP posts and medians."""

from __future__ import annotations

import resource
import statistics
import time
from dataclasses import dataclass, field

import httpx


class BenchError(RuntimeError):
    """A service answered something other than a forecast."""


@dataclass
class Samples:
    """Seconds of repeated measurements of one thing."""

    values: list[float] = field(default_factory=list)

    def add(self, seconds: float) -> None:
        self.values.append(seconds)

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")

    @property
    def median_ms(self) -> float:
        return self.median * 1000

    def __len__(self) -> int:
        return len(self.values)


def timed_post(client: httpx.Client, url: str, body: bytes) -> tuple[float, httpx.Response]:
    """Seconds from sending `body` to having read the whole answer; non-200 is an error."""
    started = time.perf_counter()
    response = client.post(url, content=body)
    response.read()
    seconds = time.perf_counter() - started
    if response.status_code != 200:
        raise BenchError(f"{url} answered {response.status_code}: {response.text[:300]}")
    return seconds, response


def ratio(numerator: float, denominator: float) -> float:
    if denominator <= 0:
        return float("nan")
    return numerator / denominator


def cpu_seconds() -> float:
    """CPU seconds used so far by this process and its finished children (user + system):
    on a busy machine, a steadier measure of work than the wall clock."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime
