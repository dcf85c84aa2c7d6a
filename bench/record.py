"""`python -m bench.record`: what keeping the track record costs a page, in this process.

The web app on the embedded prices and the mock model (both in-process, no sockets), its track
record in a SQLite file replayed for AAPL over its last year (every 5 sessions), asked in turn:

- the ticker page (`/t/AAPL`; it renders no record: the browser asks for it afterwards);
- its forecast (`/api/forecast/AAPL`, the answer cached), which keeps what it shows, against
  the same app with the record left out (the reference);
- the record's answer (`/api/track-record/AAPL`), read from the scorer's totals.

Each is asked `--n` times in turn (after a warm-up); the table gives medians and 90th
percentiles in milliseconds, and the forecast's ratio with the record to without.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import statistics
import tempfile
import time
from pathlib import Path
from unittest import mock

import httpx
from pydantic import SecretStr

from tickercast.cli.record import record
from tickercast.model.api import create_app as create_model_app
from tickercast.settings import ModelSettings, WebSettings
from tickercast.web import app as web_app
from tickercast.web.forecasts import Forecaster
from tickercast.web.model_client import ModelClient

KEY = "bench-key"
PATHS = {
    "ticker page": "/t/AAPL",
    "forecast (cached)": "/api/forecast/AAPL",
    "track record": "/api/track-record/AAPL",
}


class WithoutRecord(Forecaster):
    """The forecaster with the record left out (the reference)."""

    recorder = property(lambda self: None, lambda self, value: None)  # type: ignore[assignment]


def make_app(url: str, without_record: bool) -> object:
    model_settings = ModelSettings(model_api_keys=SecretStr(KEY), model_mock=True)
    model_settings.model_rate_limit = "1000000/minute"
    transport = httpx.ASGITransport(create_model_app(model_settings))
    client = ModelClient("http://model/", KEY, timeout=30, retries=0, transport=transport)
    settings = WebSettings(
        model_api_url=SecretStr("http://model/"),
        model_api_key=SecretStr(KEY),
        database_url=SecretStr(url),
        yahoo_prices=False,  # the embedded prices only: nothing leaves this machine
    )
    patch = mock.patch.object(web_app, "Forecaster", WithoutRecord) if without_record else None
    if patch is not None:
        patch.start()
    try:
        return web_app.create_app(settings, model_client=client)
    finally:
        if patch is not None:
            patch.stop()


async def timings(
    apps: dict[str, object], paths: dict[str, str], n: int
) -> dict[tuple[str, str], list[float]]:
    """Seconds of each path of each app, asked in turn (so both see the same machine load)."""
    out: dict[tuple[str, str], list[float]] = {}
    async with contextlib.AsyncExitStack() as stack:
        clients = {}
        for label, app in apps.items():
            await stack.enter_async_context(app.router.lifespan_context(app))  # type: ignore[attr-defined]
            transport = httpx.ASGITransport(app)  # type: ignore[arg-type]
            clients[label] = await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url="http://web")
            )
        for client in clients.values():  # warm-up: prices read, answer cached, record opened
            for path in paths.values():
                for _ in range(3):
                    await client.get(path)
        for _ in range(n):
            for label, client in clients.items():
                for name, path in paths.items():
                    started = time.perf_counter()
                    resp = await client.get(path)
                    out.setdefault((label, name), []).append(time.perf_counter() - started)
                    assert resp.status_code in (200, 404), (path, resp.status_code)
    return out


def summary(values: list[float]) -> tuple[float, float]:
    ms = sorted(v * 1000 for v in values)
    return statistics.median(ms), ms[int(0.9 * (len(ms) - 1))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.record", description=__doc__)
    parser.add_argument("--n", type=int, default=300, help="requests of each (default 300)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tickercast-bench-record-") as folder:
        url = f"sqlite:///{Path(folder) / 'record.sqlite3'}"
        os.environ["DATABASE_URL"] = url
        record(["AAPL"], dt.date(2012, 3, 1), dt.date(2013, 3, 1), 5, ["calibrated"], mock=True)
        apps = {"with": make_app(url, False), "without": make_app(url, True)}
        times = asyncio.run(timings(apps, PATHS, args.n))
    rows = [
        ("ticker page, with the record", times["with", "ticker page"]),
        ("ticker page, without (reference)", times["without", "ticker page"]),
        ("forecast (cached), with the record", times["with", "forecast (cached)"]),
        ("forecast (cached), without (reference)", times["without", "forecast (cached)"]),
        ("track record of AAPL", times["with", "track record"]),
    ]
    print(f"| request (in-process, n={args.n}) | median ms | p90 ms |")
    print("|---|---|---|")
    for name, values in rows:
        median, p90 = summary(values)
        print(f"| {name} | {median:.2f} | {p90:.2f} |")
    for name in ("forecast (cached)", "ticker page"):
        ratio = summary(times["with", name])[0] / summary(times["without", name])[0]
        print(f"{name}: with the record ÷ without = {ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
