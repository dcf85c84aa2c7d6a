"""Traffic: soaks with workers being replaced, and simultaneous users on cached and cold
forecasts, for the model service (mock and Prophet) and the web app on the mock.

`make load` (`python -m bench.traffic`) runs it alone; `make bench` runs it after the model
cases. Every figure comes with the CPU the service's processes used per answer, which does not
depend on how busy the rest of the machine is.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.data import load_series, request_body
from bench.load import LoadResult, Request, run_load
from bench.procs import BENCH_KEY, Service, child_pids, memory_mb, run_service
from tickercast.cli.processes import free_port

TICKERS = ("AAPL", "MSFT", "IBM", "GOOG")
WINDOWS = ("6m", "1y", "2y", "5y", "max")  # 3m: too short for the default calibrated method
SOAK_MAX_REQUESTS = "2000"  # a worker replaced about every 2,000 requests during the soaks
RESULTS = Path(__file__).resolve().parent / "results" / "traffic.md"


def log(message: str) -> None:
    print(f"[traffic {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def model(workers: int, mock: bool, **env: str) -> contextlib.AbstractContextManager[Service]:
    port = free_port()
    args = ["tickercast", "model", "--port", str(port), "--workers", str(workers)]
    settings = {
        "MODEL_API_KEYS": BENCH_KEY,
        "MODEL_RATE_LIMIT": "1000000/minute",
        "MODEL_REQUEST_RATE_LIMIT": "1000000/minute",
        "LOG_LEVEL": "WARNING",
        **env,
    }
    return run_service(
        "model" + (" (mock)" if mock else ""), [*args, *["--mock"] * mock], port, settings
    )


def web(model_url: str, workers: int, **env: str) -> contextlib.AbstractContextManager[Service]:
    port = free_port()
    args = ["tickercast", "web", "--port", str(port), "--workers", str(workers)]
    settings = {
        "MODEL_API_URL": f"{model_url}/",
        "MODEL_API_KEY": BENCH_KEY,
        "LOG_LEVEL": "WARNING",
        **env,
    }
    return run_service("web", args, port, settings)


def cpu_seconds(svc: Service) -> float:
    """CPU time of the service: its master (with the workers it reaped) and live workers."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in [svc.process.pid, *child_pids(svc.process.pid)]:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(f) for f in fields[11:15]) / tick  # utime stime cutime cstime
    return total


def rss_mb(svc: Service) -> float:
    """Resident memory of the service's workers together."""
    total = 0.0
    for pid in svc.worker_pids():
        with contextlib.suppress(OSError, KeyError):  # KeyError: a worker that is exiting
            total += memory_mb(pid)["VmRSS"]
    return total


@dataclass
class Row:
    case: str
    result: LoadResult
    cpu_ms: float  # the service's CPU per answer
    note: str = ""


def measure(
    case: str, services: list[Service], requests: Callable[[int], Request], users: int, **kw: float
) -> Row:
    before = sum(cpu_seconds(s) for s in services)
    result = run_load(requests, users, **kw)  # type: ignore[arg-type]
    used = sum(cpu_seconds(s) for s in services) - before
    row = Row(case, result, used * 1000 / max(1, result.answered))
    failed = {k: v for k, v in result.statuses.items() if k not in ("200", "retry-after")}
    if failed:
        row.note = f"failures: {failed}"
    log(f"{case}: {result.per_second:,.0f}/s, {result.errors} errors")
    return row


def web_url(svc: Service, i: int, cold: bool) -> str:
    """A forecast view: cold ones never asked before in the run (a new horizon or window)."""
    if cold:
        ticker, window = TICKERS[i % 4], WINDOWS[(i // 4) % len(WINDOWS)]
        periods = 1 + (i // (4 * len(WINDOWS))) % 500
    else:
        ticker, window, periods = TICKERS[i % 2], "2y", 60
    return f"{svc.url}/api/forecast/{ticker}?periods={periods}&window={window}"


def model_bodies(count: int, rows: int, periods: int = 60) -> list[bytes]:
    series = load_series()
    return [
        request_body(series, start, rows, BENCH_KEY, periods)
        for start in range(0, len(series) - rows, max(1, (len(series) - rows) // count))
    ][:count]


def soak(svc: Service, requests: Callable[[int], Request], total: int, users: int) -> Row:
    rss_start = rss_mb(svc)
    row = measure(f"soak, {total:,} requests", [svc], requests, users, seconds=3600, total=total)
    booted = svc.log().count("Booting worker")
    failures = f"; {row.note}" if row.note else ""
    row.note = f"RSS {rss_start:,.0f} → {rss_mb(svc):,.0f} MB; {booted} workers booted{failures}"
    return row


def run(soak_total: int, seconds: float, prophet: bool) -> list[Row]:
    rows: list[Row] = []
    recycle = {"MAX_REQUESTS": SOAK_MAX_REQUESTS, "MAX_REQUESTS_JITTER": "200"}
    steady = {"MAX_REQUESTS": "0"}  # no replacement while measuring rates

    log(f"soak: {soak_total:,} requests to each service, workers replaced as they go")
    bodies = model_bodies(50, 250)
    with model(2, mock=True, **recycle) as mock:
        url = mock.url
        rows.append(soak(mock, lambda i: ("POST", url, bodies[i % 50]), soak_total, 8))
        rows[-1].case = f"model (mock, 2 workers): {rows[-1].case}"
        with web(mock.url, 2, **recycle) as site:
            rows.append(
                soak(
                    site, lambda i: ("GET", web_url(site, i % 200, cold=True), None), soak_total, 8
                )
            )
            rows[-1].case = f"web app (2 workers, on the mock): {rows[-1].case}"

    log("simultaneous users: web app with one worker on the mock model")
    with model(1, mock=True, **steady) as mock, web(mock.url, 1, **steady) as site:
        for i in range(2):
            httpx.get(web_url(site, i, cold=False), timeout=60).raise_for_status()
        fresh = itertools.count(1).__next__  # every cold view a new one
        for users in (16, 64):
            rows.append(
                measure(
                    f"web GET /api/forecast cached, {users} users",
                    [site],
                    lambda i: ("GET", web_url(site, i % 2, cold=False), None),
                    users,
                    seconds=seconds,
                )
            )
            rows.append(
                measure(
                    f"web GET /api/forecast cold, {users} users",
                    [site, mock],
                    lambda i: ("GET", web_url(site, fresh(), cold=True), None),
                    users,
                    seconds=seconds,
                )
            )
        page = f"{site.url}/t/AAPL?window=2y&h=60"
        rows.append(
            measure(
                "web GET /t/AAPL page, 16 users",
                [site],
                lambda i: ("GET", page, None),
                16,
                seconds=seconds,
            )
        )
        one = model_bodies(1, 1250)[0]
        httpx.post(mock.url, content=one, timeout=60).raise_for_status()  # cached from now on
        rows.append(
            measure(
                "model (mock) POST cached, 16 users",
                [mock],
                lambda i: ("POST", mock.url, one),
                16,
                seconds=seconds,
            )
        )
    if prophet:
        log("the Prophet model service, 2 workers: cold and cached forecasts")
        cold = model_bodies(400, 1250)
        with model(2, mock=False, **steady) as real:
            httpx.post(real.url, content=cold[-1], timeout=300).raise_for_status()
            for users in (16, 64):
                rows.append(
                    measure(
                        f"model (Prophet) POST cold N=1,250, {users} users",
                        [real],
                        lambda i: ("POST", real.url, cold[fresh() % 399]),
                        users,
                        seconds=seconds,
                    )
                )
                rows.append(
                    measure(
                        f"model (Prophet) POST cached, {users} users",
                        [real],
                        lambda i: ("POST", real.url, cold[-1]),
                        users,
                        seconds=seconds,
                    )
                )
    return rows


def render(rows: list[Row]) -> str:
    def ms(result: LoadResult, p: float) -> str:
        return f"{result.percentile(p) * 1000:,.0f}"

    out = [
        "## Traffic",
        "",
        "| case | answers/s | p50 ms | p95 ms | p99 ms | errors | told to retry "
        "(Retry-After) | service CPU ms per answer | notes |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        r = row.result
        out.append(
            f"| {row.case} | {r.per_second:,.0f} | {ms(r, 50)} | {ms(r, 95)} | {ms(r, 99)} | "
            f"{r.errors} | {r.told_to_retry} | {row.cpu_ms:,.1f} | {row.note} |"
        )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    out += ["", f"Load average at the end: {load} (2 cores; other work was running)."]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.traffic", description=__doc__)
    parser.add_argument("--soak", type=int, default=20_000, help="requests per soak")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds per load case")
    parser.add_argument("--no-prophet", action="store_true", help="skip the Prophet service")
    args = parser.parse_args(argv)
    text = render(run(args.soak, args.seconds, not args.no_prophet))
    print(text)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
