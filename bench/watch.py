"""`python -m bench.watch`: the watchlist of 20 tickers against the real model service.

The model service runs as a real process (`tickercast model`, 2 workers, the default fit
engine); the web app runs in this process on 20 tickers of real daily prices (windows of the
sample data's AAPL, MSFT and IBM, 1,300 sessions each, every ticker a different window), its
prices looked up once beforehand (cached), its model answers not: cold.

Timed: the page with its rows of prices (`GET /watch`, what is on screen first), then the
rows filled (`GET /api/watch`, what the page's script asks next: one batch of 20 forecasts and
one of 20 five-origin backtests), then the same again warm. The reference, in the same run and
on 20 other tickers (cold too): what a client without the watchlist does, each ticker's
forecast and backtest from the single-ticker API, one call after another.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pandas as pd
from fastapi.testclient import TestClient
from tests.support import fakes

from bench import procs
from tickercast.data.embedded import EmbeddedProvider
from tickercast.web.app import create_app
from tickercast.web.model_client import ModelClient

SOURCES = ("AAPL", "MSFT", "IBM")
SESSIONS = 1_300
HORIZON = 60
WARM_REPEATS = 5
# Tickers of the warm-up (neither measured list): the model's workers warm their fit engine
# in the background as they start, and the first fits after are slower.
WARM_UP = 10


def frames(count: int, offset: int) -> dict[str, pd.DataFrame]:
    """`count` tickers (W00, W01, ...; from `offset`), each a different window of real prices."""
    embedded = EmbeddedProvider()
    full = {s: embedded.history(s).frame for s in SOURCES}
    made = {}
    for i in range(offset, offset + count):
        source = full[SOURCES[i % len(SOURCES)]]
        start = (i * 37) % (len(source) - SESSIONS)
        made[f"W{i:02d}"] = source.iloc[start : start + SESSIONS]
    return made


def timed(call: Callable[[], httpx.Response]) -> float:
    started = time.perf_counter()
    response = call()
    seconds = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"{response.url} answered {response.status_code}: {response.text[:300]}")
    return seconds


def run(count: int, record_dir: Path) -> list[str]:
    listed = frames(count, 0)
    others = frames(count, count)
    spare = frames(WARM_UP, 2 * count)
    provider = fakes.FakeProvider("bench", {**listed, **others, **spare}, "Sample windows")
    watch = ",".join(listed)
    with procs.ours(2) as svc:
        settings = fakes.settings(
            model_api_url=f"{svc.url}/",
            model_api_key=procs.BENCH_KEY,
            model_api_timeout=120.0,
            database_url=f"sqlite:///{record_dir / 'record.sqlite3'}",
        )
        model = ModelClient(f"{svc.url}/", procs.BENCH_KEY, timeout=120.0, retries=0)
        app = create_app(settings, providers={"bench": provider}, model_client=model)
        with TestClient(app) as client:
            get = client.get
            # The model's workers and the app warmed on other tickers, both ways.
            timed(lambda: get("/api/watch", params={"tickers": ",".join(spare)}))
            for name in spare:
                timed(lambda t=name: get(f"/api/backtest/{t}", params={"periods": 20}))
            # Every price cached (looked up, not made into rows: the page does that).
            for name in [*listed, *others]:
                client.portal.call(app.state.forecaster.lookup, name)
            page = timed(lambda: get("/watch", params={"tickers": watch, "h": HORIZON}))
            query = {"tickers": watch, "periods": HORIZON}
            filled = timed(lambda: get("/api/watch", params=query))
            warm = statistics.median(
                timed(lambda: get("/api/watch", params=query)) for _ in range(WARM_REPEATS)
            )
            single = {"periods": HORIZON, "method": "calibrated"}

            def one_by_one() -> float:
                return sum(
                    timed(lambda t=t, kind=kind: get(f"/api/{kind}/{t}", params=single))
                    for t in others
                    for kind in ("forecast", "backtest")
                )

            ref_cold = one_by_one()
            ref_warm = one_by_one()
    return [
        "| case | watchlist | reference: single-ticker API, one by one | ratio |",
        "|---|---|---|---|",
        f"| prices on screen (`GET /watch`, {count} rows) | {page * 1000:.0f} ms | - | - |",
        f"| cold: every row filled (`/watch` + `/api/watch`) | {page + filled:.2f} s | "
        f"{ref_cold:.2f} s | {ref_cold / (page + filled):.1f}× faster |",
        f"| warm: `GET /api/watch` again (median of {WARM_REPEATS}) | {warm * 1000:.0f} ms | "
        f"{ref_warm * 1000:.0f} ms | {ref_warm / warm:.1f}× faster |",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.watch", description=__doc__)
    parser.add_argument("--tickers", type=int, default=20, help="tickers in the watchlist")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tickercast-bench-") as folder:
        lines = run(args.tickers, Path(folder))
    print("\n".join(lines), file=sys.stdout)


if __name__ == "__main__":
    main()
