"""`python -m bench.batch`: POST /batch of many distinct series through a 2-worker service.

500 windows of 1,250 sessions of real daily prices, each a different start (cold: none of them
cached), a calibrated forecast 60 steps ahead: one batch of 500, then two batches of 250 at
once (one for each worker), and as a baseline in the same run the same number of other cold
series as single POST / requests from two clients at once. Reports series a second, and checks
a sample of the answers against single POST / requests: the parsed JSON equal, and the batch's
spliced bytes equal to the single answer's bytes.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import random
import sys
import time
from typing import Any

import httpx
import orjson

from bench import procs
from bench.data import Windows, load_series

ROWS, PERIODS, METHOD = 1_250, 60, "calibrated"
TIMEOUT = 900.0


def batch_body(series: list[dict[str, Any]]) -> bytes:
    shared = {"key": procs.BENCH_KEY, "periods": PERIODS, "method": METHOD}
    return orjson.dumps({**shared, "series": series})


def make_series(count: int, windows: Windows) -> list[dict[str, Any]]:
    data = load_series()
    items = []
    for start in windows.take(ROWS, count):
        ds, y = data.window(start, ROWS)
        items.append({"id": f"AAPL@{ds[0]}", "ds": ds, "y": y})
    return items


def post_batch(url: str, body: bytes) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = httpx.post(f"{url}/batch", content=body, timeout=TIMEOUT)
    seconds = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"/batch answered {response.status_code}: {response.text[:300]}")
    return seconds, response


def check_sample(url: str, series: list[dict[str, Any]], answer: bytes, sample: int) -> int:
    """How many of a sample of series the batch answered exactly as single requests do."""
    forecasts = orjson.loads(answer)["forecasts"]
    checked = 0
    for item in random.Random(7).sample(series, min(sample, len(series))):
        body = {"key": procs.BENCH_KEY, "periods": PERIODS, "method": METHOD}
        body |= {"ds": item["ds"], "y": item["y"]}
        single = httpx.post(url, content=orjson.dumps(body), timeout=TIMEOUT)
        single.raise_for_status()
        if forecasts[item["id"]] != orjson.loads(single.content):
            raise RuntimeError(f"{item['id']}: the batch's answer differs from POST /")
        if orjson.dumps(item["id"]) + b":" + single.content not in answer:
            raise RuntimeError(f"{item['id']}: the batch's bytes differ from POST /")
        checked += 1
    return checked


def post_singles(url: str, series: list[dict[str, Any]]) -> float:
    """Seconds to answer each series as its own POST /, two clients at once."""

    def client_run(items: list[dict[str, Any]]) -> None:
        with httpx.Client(timeout=TIMEOUT) as client:
            for item in items:
                body = {"key": procs.BENCH_KEY, "periods": PERIODS, "method": METHOD}
                body |= {"ds": item["ds"], "y": item["y"]}
                client.post(url, content=orjson.dumps(body)).raise_for_status()

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        list(pool.map(client_run, [series[::2], series[1::2]]))
    return time.perf_counter() - started


def run(count: int, sample: int) -> list[str]:
    windows = Windows(load_series())
    one, halves = make_series(count, windows), make_series(count, windows)
    singles = make_series(count, windows)
    lines = []
    with procs.ours(2) as svc:
        warm = {"key": procs.BENCH_KEY, "ds": one[0]["ds"][:200], "y": one[0]["y"][:200]}
        procs.wait_all_workers(svc, 2, orjson.dumps(warm))
        body = batch_body(one)
        seconds, response = post_batch(svc.url, body)
        errors = orjson.loads(response.content)["errors"]
        lines.append(
            f"| one batch of {count} | {len(body) / 1e6:.1f} MB | {seconds:.1f} s | "
            f"{count / seconds:.0f} | {len(errors)} |"
        )
        checked = check_sample(svc.url, one, response.content, sample)
        half = count // 2
        bodies = [batch_body(halves[:half]), batch_body(halves[half:])]
        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(lambda b: post_batch(svc.url, b)[1], bodies))
        seconds = time.perf_counter() - started
        errors = sum(len(orjson.loads(a.content)["errors"]) for a in answers)
        workers = len({a.headers.get("x-worker") for a in answers})
        lines.append(
            f"| two batches of {half} at once ({workers} worker{'s' * (workers > 1)}) | "
            f"{sum(map(len, bodies)) / 1e6:.1f} MB | {seconds:.1f} s | {count / seconds:.0f} | "
            f"{errors} |"
        )
        checked += check_sample(svc.url, halves[:half], answers[0].content, sample // 2)
        seconds = post_singles(svc.url, singles)
        lines.append(
            f"| {count} single POST / from 2 clients | - | {seconds:.1f} s | "
            f"{count / seconds:.0f} | 0 |"
        )
    lines.append(
        f"\n{checked} sampled series: each answer equal to its single POST /, byte for byte."
    )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.batch", description=__doc__)
    parser.add_argument("--series", type=int, default=500, help="series in the batch")
    parser.add_argument("--sample", type=int, default=20, help="series checked against POST /")
    args = parser.parse_args(argv)
    header = ["| request | body | wall | series/s | errors |", "|---|---|---|---|---|"]
    print("\n".join(header + run(args.series, args.sample)), file=sys.stdout)


if __name__ == "__main__":
    main()
