"""The machine's own ceiling for two workers: CmdStan's optimizer in one process, then in two
processes at once, on the same windows. Two workers of any Prophet service cannot gain more
than this over one.

Each loop runs in a fresh `python -m bench.ceiling ROWS REPS START_AT` process that loads
Prophet first and then waits for the wall-clock moment START_AT, so two loops overlap fully.
"""

from __future__ import annotations

import subprocess
import sys
import time

from bench import floor
from bench.data import load_series
from bench.procs import ROOT

LEAD_SECONDS = 8.0  # time for each process to load Prophet before the common start


def loop(rows: int, reps: int, start_at: float) -> float:
    """Seconds for `reps` optimizer runs on consecutive windows, from `start_at`."""
    series = load_series()
    frames = [series.frame(len(series) - rows - i, rows) for i in range(reps)]
    floor.stan_model()
    time.sleep(max(0.0, start_at - time.time()))
    started = time.perf_counter()
    for frame in frames:
        floor.optimize_seconds(frame)
    return time.perf_counter() - started


def _run_loops(count: int, rows: int, reps: int) -> list[float]:
    start_at = time.time() + LEAD_SECONDS
    command = [sys.executable, "-m", "bench.ceiling", str(rows), str(reps), repr(start_at)]
    children = [
        subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) for _ in range(count)
    ]
    return [float(child.communicate()[0].strip()) for child in children]


def two_loops_over_one(rows: int = 1250, reps: int = 8) -> float:
    """Work per second of two optimizer loops at once, over one loop alone."""
    (alone,) = _run_loops(1, rows, reps)
    together = max(_run_loops(2, rows, reps))
    return 2 * alone / together


if __name__ == "__main__":
    print(loop(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])))
