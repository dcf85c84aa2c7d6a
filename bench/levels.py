"""What levels cost: a calibrated request with 11 levels against the same request without.

    python -m bench.levels [--rounds 15]

In-process, on the embedded prices (1,250 sessions, 20 steps): each round asks both requests,
alternating which goes first, each once with its fit made anew (a fresh engine: the whole
computation of an answer not in any cache) and once more with the fit kept (only the forecast
and its encoding). The median CPU seconds of each and their ratio are printed; the target is
at most 1.2 (11 levels at most 20% slower).
"""

from __future__ import annotations

import argparse
import statistics
import time

import orjson

from bench.data import load_series
from tickercast.contract import parse_request
from tickercast.model.engine import ProphetEngine

ROWS = 1250
PERIODS = 20
LEVELS = [10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 98]


def cpu(run: object) -> float:
    started = time.process_time()
    run()  # type: ignore[operator]
    return time.process_time() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args(argv)
    series = load_series()
    ds, y = series.window(len(series.ds) - ROWS, ROWS)
    body = {"ds": ds, "y": y, "periods": PERIODS, "method": "calibrated"}
    plain = parse_request(orjson.loads(orjson.dumps(body)))
    levels = parse_request(orjson.loads(orjson.dumps({**body, "levels": LEVELS})))
    cases = {"without levels": plain, "11 levels": levels}
    cold: dict[str, list[float]] = {name: [] for name in cases}
    warm: dict[str, list[float]] = {name: [] for name in cases}
    ProphetEngine().run(plain)  # imports and first-call costs out of the way
    for i in range(args.rounds):
        order = list(cases) if i % 2 == 0 else list(reversed(cases))
        for name in order:
            engine = ProphetEngine()
            cold[name].append(cpu(lambda e=engine, r=cases[name]: e.run(r)))
            warm[name].append(cpu(lambda e=engine, r=cases[name]: e.run(r)))
    for label, samples in (("fit made anew", cold), ("fit kept", warm)):
        base, more = (statistics.median(samples[name]) for name in cases)
        print(
            f"{label}: without levels {base * 1000:.1f} ms, 11 levels {more * 1000:.1f} ms, "
            f"ratio {more / base:.3f} (median CPU of {args.rounds} rounds)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
