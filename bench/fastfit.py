"""The in-process fit against CmdStan: one fit on the same prepared data, a cold forecast
against the reference, and the peak memory of a process doing only fast fits.

The cold forecast goes over HTTP with `engine: "fast"` in the body.

`python -m bench.fastfit memory ENGINE ROWS COUNT` is the child that measures memory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field

import httpx

from bench import floor
from bench.cases import PERIODS, TIMEOUT, check_rows
from bench.data import Series, Windows, load_series, request_body
from bench.procs import BENCH_KEY, ROOT, Service
from bench.timing import Samples, cpu_seconds, timed_post


@dataclass
class FitPair:
    """One fit on the same Stan inputs: CmdStan's optimize call, and the fast engine."""

    rows: int
    cmdstan: Samples = field(default_factory=Samples)
    fast: Samples = field(default_factory=Samples)
    cmdstan_cpu: Samples = field(default_factory=Samples)
    fast_cpu: Samples = field(default_factory=Samples)


@dataclass
class FastResults:
    fits: list[FitPair] = field(default_factory=list)
    cold_rows: int = 0
    cold_fast: Samples = field(default_factory=Samples)
    cold_reference: Samples = field(default_factory=Samples)
    peak_mb: dict[str, float] = field(default_factory=dict)


def fast_timed(stan_data: dict[str, object]) -> tuple[float, float]:
    """Wall and CPU seconds of one in-process fit on Prophet's Stan inputs."""
    from tickercast.model import fastfit

    cpu = cpu_seconds()
    started = time.perf_counter()
    fastfit.optimize(stan_data)
    return time.perf_counter() - started, cpu_seconds() - cpu


def add(wall: Samples, cpu: Samples, timed: tuple[float, float]) -> None:
    wall.add(timed[0])
    cpu.add(timed[1])


def measure_fits(series: Series, windows: Windows, rows: int, reps: int) -> FitPair:
    """Both optimizers on the same fresh windows, taking turns (who goes first alternates)."""
    pair = FitPair(rows)
    fast_timed(floor.stan_inputs(series.frame(0, rows))[0])  # imports and first-call costs
    for i, start in enumerate(windows.take(rows, reps)):
        frame = series.frame(start, rows)
        stan_data = floor.stan_inputs(frame)[0]
        runs = [
            lambda f=frame: add(pair.cmdstan, pair.cmdstan_cpu, floor.optimize_timed(f)),
            lambda d=stan_data: add(pair.fast, pair.fast_cpu, fast_timed(d)),
        ]
        for run in runs[:: -1 if i % 2 else 1]:
            run()
    return pair


def fast_body(series: Series, start: int, rows: int) -> bytes:
    body = json.loads(request_body(series, start, rows, BENCH_KEY, PERIODS))
    return json.dumps(body | {"engine": "fast"}).encode()


def measure_cold(
    results: FastResults,
    ours: Service,
    ref: Service,
    series: Series,
    windows: Windows,
    rows: int,
    reps: int,
) -> None:
    """Cold forecasts on fresh windows: `engine: "fast"` against the reference, taking turns."""
    from tickercast.model import forecasting

    forecasting.load_prophet()
    results.cold_rows = rows
    warm, *starts = windows.take(rows, reps + 1)
    with httpx.Client(timeout=TIMEOUT) as ours_client, httpx.Client(timeout=TIMEOUT) as ref_client:

        def fast(start: int, into: FastResults = results) -> None:
            seconds, answer = timed_post(ours_client, ours.url, fast_body(series, start, rows))
            check_rows(answer, rows)
            into.cold_fast.add(seconds)

        def reference(start: int) -> None:
            body = request_body(series, start, rows, None, PERIODS)
            results.cold_reference.add(timed_post(ref_client, ref.url, body)[0])

        # one untimed round: warms both up at this size
        untimed = FastResults()
        fast(warm, untimed)
        timed_post(ref_client, ref.url, request_body(series, warm, rows, None, PERIODS))
        for i, start in enumerate(starts):
            runs = [fast, reference]
            for run in runs[:: -1 if i % 2 else 1]:
                run(start)


def peak_memory_mb(engine: str, rows: int, count: int) -> float:
    """VmHWM of a fresh process that loads Prophet and answers `count` cold requests."""
    command = [sys.executable, "-m", "bench.fastfit", "memory", engine, str(rows), str(count)]
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def _memory_child(engine: str, rows: int, count: int) -> float:
    from bench.procs import memory_mb
    from tickercast.contract import parse_request
    from tickercast.model.engine import ProphetEngine

    series = load_series()
    worker = ProphetEngine()
    worker.warm_up()
    for start in range(count):
        body = json.loads(request_body(series, start, rows, BENCH_KEY, PERIODS))
        worker.run(parse_request(body), engine=engine)
    return memory_mb(os.getpid())["VmHWM"]


if __name__ == "__main__":
    if sys.argv[1] == "memory":
        print(_memory_child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
