"""`python -m bench.nightly`: the nightly run over 500 tickers in 2 shards, with the real model.

500 synthetic symbols, each a scaled copy of the real prices of an embedded ticker (about 1,250
sessions ending on the last closed day), served by the replayed Yahoo on this machine (a TLS
server and a CONNECT proxy in this process: yfinance runs its own HTTP path, nothing leaves the
host); the model service with 2 workers and its default (fast) fit engine; the track record in
a throwaway PostgreSQL cluster; the web app's cache of model answers in a throwaway Redis.
Both shards run at once as `tickercast refresh --universe FILE --shard I/2` processes, as two
pods of the Indexed Job would. Then the same night again: every price and every forecast is a
cache hit (Redis), so that run is what the night costs without the model or Yahoo (the
processes' start, preparing the requests, the record and the scorer): the reference the first
is divided by. The target: the cold night under 2 minutes on two cores.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tests.support.postgres_server import postgres_server
from tests.support.redis_server import own_redis
from tests.support.yahoo_replay import LAST_DAY, Listing, YahooReplay

from bench import procs
from tickercast.record import db

SOURCES = ("AAPL", "IBM", "MSFT", "GOOG")
FIRST_DAY = "2008-03-01"  # about 1,250 sessions to LAST_DAY: all the model is given
SHARDS = 2
TIMEOUT = 900.0


def serve_universe(yahoo: YahooReplay, count: int, day: str, folder: Path) -> Path:
    """The universe file of `count` synthetic symbols the replay now serves, ending on `day`."""
    lines = ["# synthetic: scaled copies of embedded real prices", "symbol,name"]
    for i in range(count):
        symbol = f"N{i:03d}"
        source = SOURCES[i % len(SOURCES)]
        listing = Listing(source, FIRST_DAY, LAST_DAY, symbol, scale=1 + i / 1000, moved_to=day)
        yahoo.serve(symbol, listing)
        lines.append(f"{symbol},Company {i}")
    path = folder / "universe.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def night(universe: Path, env: dict[str, str]) -> tuple[float, list[str]]:
    """Both shards at once; the wall time and each shard's summary line."""
    started = time.perf_counter()
    shards = [
        subprocess.Popen(
            [sys.executable, "-m", "tickercast", "refresh", "--universe", str(universe)]
            + ["--shard", f"{i}/{SHARDS}", "--concurrency", "4"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=procs.ROOT,
        )
        for i in range(SHARDS)
    ]
    summaries = []
    for shard in shards:
        out, err = shard.communicate(timeout=TIMEOUT)
        if shard.returncode != 0:
            raise RuntimeError(f"a shard exited {shard.returncode}:\n{out}\n{err[-3000:]}")
        summaries.append(out.splitlines()[0])
    return time.perf_counter() - started, summaries


@contextlib.contextmanager
def stack(folder: Path) -> Iterator[tuple[YahooReplay, dict[str, str]]]:
    """The replayed Yahoo, Redis, PostgreSQL and the model: the shards' environment."""
    with (
        YahooReplay() as yahoo,
        own_redis() as redis,
        postgres_server() as postgres,
        procs.ours(2) as model,
    ):
        url = postgres.create_database("nightly")
        engine = db.make_engine(url)
        db.upgrade(engine)
        engine.dispose()
        env = {
            **{k: v for k, v in os.environ.items() if k not in procs.SERVICE_ENV},
            "MODEL_API_URL": model.url + "/",
            "MODEL_API_KEY": procs.BENCH_KEY,
            "MODEL_API_TIMEOUT": "600",
            "REDIS_URL": redis.url,
            "DATABASE_URL": url,
            "YAHOO_PRICES": "true",
            "YAHOO_PROXY": yahoo.proxy_url,
            "YAHOO_CA_BUNDLE": str(yahoo.ca_file),
            "YAHOO_CACHE_DIR": str(folder / "yfinance"),
            "LOG_LEVEL": "WARNING",
        }
        yield yahoo, env


def last_closed_day() -> str:
    """A weekday before today: a closed session for the replayed exchange."""
    day = dt.date.today() - dt.timedelta(days=1)
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day.isoformat()


def run(count: int) -> list[str]:
    with (
        tempfile.TemporaryDirectory(prefix="tickercast-nightly-") as home,
        stack(Path(home)) as (
            yahoo,
            env,
        ),
    ):
        universe = serve_universe(yahoo, count, last_closed_day(), Path(home))
        cold, cold_lines = night(universe, env)
        warm, warm_lines = night(universe, env)
    lines = [
        "| night | wall | tickers/s |",
        "|---|---|---|",
        f"| cold: every forecast computed | {cold:.1f} s | {count / cold:.1f} |",
        f"| again, every price and forecast a cache hit (reference) | {warm:.1f} s | "
        f"{count / warm:.1f} |",
        "",
        f"Cold / warm: {cold / warm:.2f}x. Target: the cold night under 120 s "
        f"({'met' if cold < 120 else 'NOT met'}).",
        "",
        *(f"    {line}" for line in cold_lines + warm_lines),
    ]
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.nightly", description=__doc__)
    parser.add_argument("--tickers", type=int, default=500, help="symbols in the universe")
    args = parser.parse_args(argv)
    print("\n".join(run(args.tickers)), file=sys.stdout)


if __name__ == "__main__":
    main()
