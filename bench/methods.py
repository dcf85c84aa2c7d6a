"""The cost of honest forecasts: a cold `calibrated` forecast against a cold `prophet` one, and
a 5-cutoff backtest, each on windows never requested before."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import httpx

from bench.data import Series, Windows
from bench.procs import BENCH_KEY, Service
from bench.timing import Samples, ratio, timed_post

ROWS = 1250
PERIODS = 100
HORIZON, CUTOFFS = 20, 5
TIMEOUT = 300


@dataclass
class MethodCosts:
    rows: int = ROWS
    cold: dict[str, Samples] = field(default_factory=dict)  # by method
    backtest: dict[str, Samples] = field(default_factory=dict)  # by method


def body(series: Series, start: int, **extra: object) -> bytes:
    ds, y = series.window(start, ROWS)
    return json.dumps({"key": BENCH_KEY, "ds": ds, "y": y, "freq": "XNYS", **extra}).encode()


def measure(svc: Service, series: Series, windows: Windows, reps: int) -> MethodCosts:
    """Each round: a cold forecast of each method, then a cold backtest of each method, every
    one on a window of its own so that no fit is shared."""
    costs = MethodCosts()
    methods = ("prophet", "calibrated")
    with httpx.Client(timeout=TIMEOUT) as client:
        for _ in range(reps):
            for method in methods:
                (start,) = windows.take(ROWS, 1)
                seconds, _ = timed_post(
                    client, svc.url, body(series, start, periods=PERIODS, method=method)
                )
                costs.cold.setdefault(method, Samples()).add(seconds)
            for method in methods:
                (start,) = windows.take(ROWS, 1)
                extra = {"method": method, "horizon": HORIZON, "cutoffs": CUTOFFS}
                seconds, _ = timed_post(client, f"{svc.url}/backtest", body(series, start, **extra))
                costs.backtest.setdefault(method, Samples()).add(seconds)
    return costs


def table(costs: MethodCosts) -> list[str]:
    prophet = costs.cold["prophet"].median
    lines = [
        f"| request (N = {costs.rows:,}, 2 workers) | reps | median ms | / cold prophet |",
        "|---|---:|---:|---:|",
    ]
    rows = [(f"cold POST /, method={m}", s) for m, s in costs.cold.items()]
    rows += [
        (f"cold POST /backtest, {CUTOFFS} cutoffs x {HORIZON} sessions, method={m}", s)
        for m, s in costs.backtest.items()
    ]
    for name, samples in rows:
        times = ratio(samples.median, prophet)
        lines.append(f"| {name} | {len(samples)} | {samples.median_ms:,.0f} | {times:.2f}x |")
    return lines
