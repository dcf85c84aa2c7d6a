"""`python -m bench.prices`: what the Yahoo prices cost and do under load, on loopback.

The web app (`tickercast web`, two workers, one Redis, the mock model) gets its prices from
Yahoo replayed on this machine (tests/support/yahoo_replay.py: yfinance's own HTTP path, a local TLS
server behind a CONNECT proxy), 20 tickers built from the embedded real prices.

1. Load: `USERS` simultaneous users, each asking the JSON forecast of a random one of the 20
   tickers, for `--seconds`: price-history requests Yahoo got per ticker (the target: 1).
2. An unknown symbol: the time to its page, first and again.
3. Yahoo stops answering mid-load: the day's prices expire (the next trading day) and Yahoo
   stalls; the same load goes on, plus 5 tickers never fetched before: what the pages answer
   (200 with the note on last prices, 503 with Retry-After, anything else).
4. Yahoo cannot be reached (its proxy refuses every tunnel, as a host without a way out): the
   time to the 404 of unknown symbols, the first and the next ones (target: under 0.5 s after
   the first), beside the machine's load; the home page's notes.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx
import redis
from tests.conftest import MODEL_KEYS
from tests.support.procs import ServiceProcess, free_port, start_model_service, start_process
from tests.support.redis_server import redis_for_the_run
from tests.support.yahoo_replay import Listing, YahooReplay

USERS = 16
SOURCES = ("AAPL", "MSFT", "IBM", "GOOG")
TICKERS = (
    "AAPL", "MSFT", "IBM", "GOOG", "SAP.DE", "7203.T", "BRK-B", "^GSPC", "NVDA", "AMZN",
    "TSLA", "JPM", "V", "KO", "PEP", "XOM", "CVX", "WMT", "DIS", "NESN.SW",
)  # fmt: skip
NEVER_FETCHED = ("ORCL", "INTC", "CSCO", "ADBE", "CRM")


def log(message: str) -> None:
    print(f"[prices {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def listing(i: int) -> Listing:
    return Listing(SOURCES[i % len(SOURCES)], "2008-01-02", "2013-03-01", f"Company {i}")


@contextmanager
def web_app(replay: YahooReplay, redis_url: str, model: ServiceProcess) -> Iterator[ServiceProcess]:
    with ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-prices-"))
        port = free_port()
        env = {
            "MODEL_API_URL": f"{model.url}/",
            "MODEL_API_KEY": MODEL_KEYS[0],
            "REDIS_URL": redis_url,
            "YAHOO_PRICES": "true",
            "YAHOO_PROXY": replay.proxy_url,
            "YAHOO_CACHE_DIR": folder,
            "YAHOO_CA_BUNDLE": str(replay.ca_file),
            "WEB_CONCURRENCY": "2",
        }
        yield stack.enter_context(start_process(["web", "--port", str(port)], env, port))


def load(url: str, tickers: tuple[str, ...], seconds: float) -> collections.Counter[str]:
    """`USERS` threads asking forecasts for `seconds`; outcomes counted by kind."""
    outcomes: collections.Counter[str] = collections.Counter()
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def user(seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=url, timeout=30) as client:
            while time.monotonic() < stop_at:
                ticker = rng.choice(tickers)
                try:
                    r = client.get(f"/api/forecast/{ticker}", params={"periods": 20})
                    kind = str(r.status_code)
                    notes = (
                        " ".join(r.json().get("price_notes", [])) if r.status_code == 200 else ""
                    )
                    if "did not answer" in notes:
                        kind += ", the last prices with a note that Yahoo did not answer"
                    if r.status_code == 503 and "retry-after" in r.headers:
                        kind += " with Retry-After"
                except httpx.HTTPError as exc:
                    kind = type(exc).__name__
                with lock:
                    outcomes[kind] += 1

    threads = [threading.Thread(target=user, args=(i,)) for i in range(USERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def unknown_page(url: str) -> list[float]:
    times = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for _ in range(2):
            started = time.perf_counter()
            r = client.get("/t/ZZZZ")
            times.append(time.perf_counter() - started)
            assert r.status_code == 404 and "No prices for ZZZZ" in r.text, r.text[:300]
    return times


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.prices", description=__doc__)
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each load")
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        replay = stack.enter_context(YahooReplay())
        redis_url = stack.enter_context(stack.enter_context(redis_for_the_run()).database())
        model = stack.enter_context(start_model_service(keys=MODEL_KEYS, workers=1, mock=True))
        for i, ticker in enumerate(TICKERS + NEVER_FETCHED):
            replay.serve(ticker, listing(i))
        with web_app(replay, redis_url, model) as web:
            the_day(web, replay, args.seconds)
        with web_app(replay, redis_url, model) as web:
            the_next_day_without_yahoo(web, replay, redis_url, args.seconds)
        with web_app(replay, redis_url, model) as web:
            yahoo_unreachable(web, replay)


def the_day(web: ServiceProcess, replay: YahooReplay, seconds: float) -> None:
    log(f"load: {USERS} users on {len(TICKERS)} tickers for {seconds:.0f} s")
    outcomes = load(web.url, TICKERS, seconds)
    per_ticker = [replay.history_requests(t) for t in TICKERS]
    print("\n### Load\n")
    print(f"- answers: {dict(outcomes)}")
    print(
        f"- Yahoo price-history requests per ticker: max {max(per_ticker)}, "
        f"mean {statistics.mean(per_ticker):.2f} ({len(TICKERS)} tickers); time-zone look-ups "
        f"(yfinance's own, once per ticker and cache folder): "
        f"{replay.count('/v8/finance/chart/') - sum(per_ticker)}"
    )
    warnings = collections.Counter(
        line.split('"message": "', 1)[1].split(":", 1)[0].split(" (")[0]
        for line in web.log_path.read_text(errors="replace").splitlines()
        if '"level": "WARNING"' in line
    )
    print(f"- warnings in the web app's log: {dict(warnings) or 'none'}")
    times = unknown_page(web.url)
    print("\n### An unknown symbol\n")
    print(f"- /t/ZZZZ: first {times[0]:.2f} s, again {times[1]:.3f} s")


def the_next_day_without_yahoo(
    web: ServiceProcess, replay: YahooReplay, redis_url: str, seconds: float
) -> None:
    """New workers, the day's prices gone from Redis (the last ones kept), Yahoo silent."""
    log("the next day: Yahoo stops answering")
    client = redis.Redis.from_url(redis_url)
    fresh = list(client.scan_iter(match="tickercast:prices:v*:fresh:*"))
    if fresh:
        client.delete(*fresh)
    client.close()
    for ticker in TICKERS + NEVER_FETCHED:
        replay.stall(ticker, 60)
    outcomes = load(web.url, TICKERS + NEVER_FETCHED, seconds)
    print("\n### Yahoo stops answering (the next day; 5 of the 25 tickers never fetched)\n")
    print(f"- answers: {dict(outcomes)}")
    replay.heal()


def yahoo_unreachable(web: ServiceProcess, replay: YahooReplay) -> None:
    log("Yahoo cannot be reached: unknown symbols")
    replay.refuse_tunnels = True
    times = []
    with httpx.Client(base_url=web.url, timeout=30) as client:
        for i in range(40):
            started = time.perf_counter()
            r = client.get(f"/api/forecast/NOSUCH{i}")
            times.append(time.perf_counter() - started)
            assert r.status_code == 404 and "cannot be reached" in r.text, r.text[:300]
        home = client.get("/").text
    notes = len(re.findall(r'id="reach-note"', home))
    rest = sorted(times[1:])
    print("\n### Yahoo cannot be reached (its proxy refuses every tunnel)\n")
    print(
        f"- unknown symbols' 404: first {times[0]:.3f} s; the next {len(rest)}: median "
        f"{statistics.median(rest):.3f} s, slowest {rest[-1]:.3f} s (target: under 0.5 s); "
        f"tunnels asked of the proxy: {replay.tunnels}"
    )
    print(f"- notes on the home page: {notes}; load average {os.getloadavg()[0]:.2f}")
    replay.refuse_tunnels = False


if __name__ == "__main__":
    main()
