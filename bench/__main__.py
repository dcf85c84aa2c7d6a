"""`python -m bench`: run every case against the reference and ours, print and save the table."""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.support.redis_server import redis_for_the_run

from bench import cases, ceiling, fastfit, methods, procs, traffic
from bench.data import Series, Windows, load_series, request_body
from bench.report import Results, SizeResult, render
from bench.timing import Samples

RESULTS = Path(__file__).resolve().parent / "results" / "latest.md"
SIZES = (250, 1250, 2500)
SOAK_ROWS, SOAK_COLD_EVERY = 250, 5
SMALL_CACHE = 20  # the leak check: a cache this small is full long before the first checkpoint


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="N = 1,250 only, fewer repetitions")
    parser.add_argument("--n", help="comma-separated sizes, e.g. 250,1250 (default 250,1250,2500)")
    parser.add_argument("--soak", type=int, help="requests in the disk and memory check")
    parser.add_argument("--no-redis", action="store_true", help="skip the Redis cache variant")
    parser.add_argument("--no-traffic", action="store_true", help="skip soaks and many users")
    parser.add_argument(
        "--fast-fit-only", action="store_true", help="only the fast fit engine's cases"
    )
    parser.add_argument(
        "--engine-costs-only",
        action="store_true",
        help="only the fast engine's requests against the reference (calibrated, backtest)",
    )
    parser.add_argument(
        "--latency-only", action="store_true", help="only cold, next day and repeat latency"
    )
    args = parser.parse_args(argv)
    if args.n:
        args.sizes = [int(part.replace("_", "")) for part in args.n.split(",") if part.strip()]
    else:
        args.sizes = [1250] if args.quick else list(SIZES)
    if args.soak is None:
        args.soak = 300 if args.quick else 1000
    return args


def reps_for(rows: int, quick: bool) -> int:
    if quick:
        return 5
    return 7 if rows >= 2500 else 11


def git_commit() -> str:
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=procs.ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()
    return "unknown"


def peaks(svc: procs.Service) -> list[float]:
    return [procs.memory_mb(pid)["VmHWM"] for pid in svc.worker_pids()]


def fast_fit_cases(
    args: argparse.Namespace,
    ours: procs.Service,
    ref: procs.Service,
    series: Series,
    windows: Windows,
) -> fastfit.FastResults:
    fast = fastfit.FastResults()
    for rows in args.sizes:
        reps = reps_for(rows, args.quick)
        log(f"fast fit N={rows}: {reps} fits by CmdStan's optimize and by the fast engine")
        fast.fits.append(fastfit.measure_fits(series, windows, rows, reps))
    rows = 1250 if 1250 in args.sizes else args.sizes[len(args.sizes) // 2]
    log(f"fast fit N={rows}: cold engine=fast forecasts against the reference")
    fastfit.measure_cold(fast, ours, ref, series, windows, rows, reps_for(rows, args.quick))
    log(
        f"fast engine N={fastfit.COSTS_ROWS}: default, calibrated, a "
        f"{fastfit.BACKTEST_CUTOFFS}-origin backtest and a repeat against the reference"
    )
    fast.costs = fastfit.measure_engine_costs(
        ours, ref, series, windows, reps_for(fastfit.COSTS_ROWS, args.quick)
    )
    rows, count = max(args.sizes), 10
    for engine in ("fast", "cmdstan"):
        log(f"fast fit: peak memory of a process answering {count} cold N={rows} requests")
        name = f"{engine} engine, N = {rows:,}, {count} cold requests"
        fast.peak_mb[name] = fastfit.peak_memory_mb(engine, rows, count)
    return fast


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from importlib.metadata import version

    results = Results(
        meta={
            "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
            "commit": git_commit(),
            "cores": str(os.cpu_count()),
            "load average at start": ", ".join(f"{x:.2f}" for x in os.getloadavg()),
            "python": platform.python_version(),
            "prophet": version("prophet"),
        }
    )
    started = time.monotonic()
    series = load_series()
    windows = Windows(series)
    tp_rows = 1250 if 1250 in args.sizes else args.sizes[len(args.sizes) // 2]
    clients, tp_rounds, tp_batch = 4, (2 if args.quick else 3), (8 if args.quick else 12)
    results.throughput_rows, results.throughput_clients = tp_rows, clients
    results.soak_rows, results.soak_cold_every = SOAK_ROWS, SOAK_COLD_EVERY
    checkpoints = sorted({min(args.soak, c) for c in (100, 250, 500, 750, args.soak)})
    cold_starts: dict[int, list[int]] = {}

    if args.fast_fit_only:
        with procs.reference() as ref, procs.ours(workers=1) as ours:
            results.fast = fast_fit_cases(args, ours, ref, series, windows)
        return finish(results, started)
    if args.engine_costs_only:
        with procs.reference() as ref, procs.ours(workers=1) as ours:
            results.fast = fastfit.FastResults()
            reps = reps_for(fastfit.COSTS_ROWS, args.quick)
            results.fast.costs = fastfit.measure_engine_costs(ours, ref, series, windows, reps)
        return finish(results, started)
    if args.latency_only:
        with procs.reference() as ref, procs.ours(workers=1) as ours:
            for rows in args.sizes:
                reps = reps_for(rows, args.quick)
                log(f"latency N={rows}: {reps} rounds of cold, next day, repeat on both services")
                our, theirs, starts = cases.measure_latency(
                    ours, ref, series, windows, rows, reps, our_repeats=3
                )
                results.sizes.append(SizeResult(rows, our, theirs, Samples()))
                log(f"floor N={rows}: CmdStan's optimize alone on the same windows")
                results.sizes[-1].floor = cases.measure_floor(series, rows, starts)
        return finish(results, started)

    with contextlib.ExitStack() as stack:
        log("starting the reference, ours with 1 worker and ours with 2 workers")
        ref = stack.enter_context(procs.reference())
        ours = stack.enter_context(procs.ours(workers=1))
        ours2 = stack.enter_context(procs.ours(workers=2))
        (warm,) = windows.take(250, 1)
        procs.wait_all_workers(ours2, 2, request_body(series, warm, 250, procs.BENCH_KEY))

        for rows in args.sizes:
            reps = reps_for(rows, args.quick)
            log(f"latency N={rows}: {reps} rounds of cold, next day, repeat on both services")
            our, theirs, starts = cases.measure_latency(
                ours, ref, series, windows, rows, reps, our_repeats=3
            )
            cold_starts[rows] = starts
            results.sizes.append(SizeResult(rows, our, theirs, Samples()))

        def batch(name: str) -> list[bytes]:
            count = tp_batch // 2 if name.startswith("reference") else tp_batch
            starts = windows.take(tp_rows, count)
            return [request_body(series, s, tp_rows, procs.BENCH_KEY) for s in starts]

        one_core = {"MODEL_FIT_SLOTS": "1"}
        ours_one_core = stack.enter_context(procs.ours(workers=1, extra_env=one_core))
        log(f"throughput N={tp_rows}, {clients} clients, {tp_rounds} rounds taking turns")
        results.throughput = cases.measure_throughput(
            {
                "ours, 1 worker": ours,
                "ours, 2 workers": ours2,
                "ours, 1 worker, MODEL_FIT_SLOTS=1 (one core)": ours_one_core,
                "reference, 1 worker": ref,
            },
            batch,
            tp_rounds,
            clients,
        )

        log("honest forecasts: cold calibrated against cold prophet, 5-cutoff backtests")
        results.methods = methods.measure(ours2, series, windows, reps=3 if args.quick else 5)

        log(f"ceiling N={tp_rows}: CmdStan's optimize alone, one loop, then two loops at once")
        results.ceiling = ceiling.two_loops_over_one(tp_rows, reps=4 if args.quick else 8)

        for size in results.sizes:
            log(f"floor N={size.rows}: CmdStan's optimize alone on the same windows")
            size.floor = cases.measure_floor(series, size.rows, cold_starts[size.rows])

        log(f"disk and memory: {args.soak} requests at N={SOAK_ROWS} on 2 workers")
        results.soaks["2 workers, default settings"] = cases.soak(
            ours2, series, windows, args.soak, SOAK_ROWS, SOAK_COLD_EVERY, checkpoints
        )
        results.peak_rss["reference (uvicorn, 1 process)"] = peaks(ref)
        results.peak_rss["ours, 1 worker"] = peaks(ours)
        results.peak_rss["ours, 2 workers (after the soak)"] = peaks(ours2)
        results.fast = fast_fit_cases(args, ours, ref, series, windows)

    log(f"disk and memory: {args.soak} requests on 1 worker, {SMALL_CACHE} cached answers at most")
    with procs.ours(workers=1, extra_env={"MODEL_CACHE_MAX_ITEMS": str(SMALL_CACHE)}) as small:
        results.soaks[f"1 worker, MODEL_CACHE_MAX_ITEMS={SMALL_CACHE} (leak check)"] = cases.soak(
            small, series, windows, args.soak, SOAK_ROWS, SOAK_COLD_EVERY, checkpoints
        )

    if args.no_redis:
        results.notes.append("Redis variant skipped (--no-redis).")
    elif shutil.which("redis-server") is None:
        results.notes.append("Redis variant skipped: redis-server is not installed.")
    else:
        log("repeat with the cache in Redis (1 worker, a redis-server of the bench's own)")
        with (
            redis_for_the_run() as own,
            own.database() as url,
            procs.ours(workers=1, redis_url=url) as ours_redis,
        ):
            for size in results.sizes:
                size.redis_repeat = cases.measure_repeat(
                    ours_redis, series, windows, size.rows, reps=15
                )
        results.notes.append(
            "Repeat rows marked Redis: the service started with REDIS_URL pointing at a "
            "redis-server of the bench's own; the others use the default in-process cache."
        )
    extra = ""
    if not args.no_traffic:
        soak_total, seconds = (2_000, 5.0) if args.quick else (20_000, 10.0)
        log(f"traffic: {soak_total:,}-request soaks, then simultaneous users ({seconds:g} s each)")
        extra = traffic.render(traffic.run(soak_total, seconds, prophet=True))
    return finish(results, started, extra)


def finish(results: Results, started: float, extra: str = "") -> int:
    results.meta["load average at end"] = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    results.meta["bench wall time"] = f"{time.monotonic() - started:.0f} s"

    text = render(results) + (f"\n\n{extra}" if extra else "")
    print(text)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(text)
    log(f"written to {RESULTS.relative_to(procs.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
