"""`python -m bench.page_backtest`: a ticker page's backtest, cold, as the page asks for it.

In this process (no sockets): the web app on the embedded prices and the model service with
its real engine (the fast fit), both with empty caches each round, so every fold is fitted.
Each round asks, for one ticker of N = 1,250 prices (the model's history), the page's cold
backtest (`GET /api/backtest/{ticker}?periods=60`: 50 origins, the 11 page levels, each
band's coverage with its 95% interval) and, as the reference in the same run, the page's cold
forecast (`GET /api/forecast/{ticker}?periods=60`), the tickers taking turns. Target: the
backtest within 2 s cold on this machine; the ratio to the forecast shows what the 50 folds and
the intervals cost whatever the machine's load.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time

import httpx
from pydantic import SecretStr

from tickercast.model.api import create_app as create_model_app
from tickercast.model.engine import ProphetEngine
from tickercast.settings import ModelSettings, WebSettings
from tickercast.web.app import create_app as create_web_app
from tickercast.web.model_client import ModelClient

KEY = "bench-key"
TICKERS = ("AAPL", "MSFT", "IBM", "GOOG")
TARGET_SECONDS = 2.0


def apps(engine: ProphetEngine, record: str) -> object:
    """A fresh web app and model service (empty caches) sharing the warmed engine."""
    model_settings = ModelSettings(model_api_keys=SecretStr(KEY), model_rate_limit="auto")
    model_app = create_model_app(model_settings, engine=engine)
    client = ModelClient(
        "http://model/", KEY, timeout=60, retries=0, transport=httpx.ASGITransport(model_app)
    )
    settings = WebSettings(
        model_api_url=SecretStr("http://model/"),
        model_api_key=SecretStr(KEY),
        database_url=SecretStr(f"sqlite:///{record}"),
        yahoo_prices=False,
    )
    return model_app, create_web_app(settings, model_client=client)


async def timed(client: httpx.AsyncClient, path: str) -> float:
    started = time.perf_counter()
    resp = await client.get(path, timeout=120)
    seconds = time.perf_counter() - started
    if resp.status_code != 200:
        raise SystemExit(f"{path}: {resp.status_code} {resp.text[:200]}")
    return seconds


async def one_round(
    engine: ProphetEngine, ticker: str, record: str, method: str = "calibrated"
) -> tuple[float, float, int]:
    """The cold forecast and the cold backtest of `ticker` by `method` on fresh apps."""
    model_app, web_app = apps(engine, record)
    async with (
        model_app.router.lifespan_context(model_app),  # type: ignore[attr-defined]
        web_app.router.lifespan_context(web_app),  # type: ignore[attr-defined]
    ):
        transport = httpx.ASGITransport(web_app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://web") as client:
            query = f"periods=60&method={method}"
            forecast = await timed(client, f"/api/forecast/{ticker}?{query}")
            started = time.perf_counter()
            resp = await client.get(f"/api/backtest/{ticker}?{query}", timeout=120)
            backtest = time.perf_counter() - started
            cutoffs = int(resp.json()["cutoffs"])
    return forecast, backtest, cutoffs


async def main(rounds: int, method: str) -> None:
    engine = ProphetEngine(60.0)
    engine.warm_up()
    with tempfile.TemporaryDirectory() as folder:
        record = os.path.join(folder, "record.sqlite3")
        await one_round(engine, TICKERS[-1], record, method)  # untimed: the first fits
        forecasts, backtests = [], []
        for i in range(rounds):
            ticker = TICKERS[i % len(TICKERS)]
            forecast, backtest, cutoffs = await one_round(engine, ticker, record, method)
            forecasts.append(forecast)
            backtests.append(backtest)
    cold_forecast, cold_backtest = statistics.median(forecasts), statistics.median(backtests)
    verdict = "met" if cold_backtest <= TARGET_SECONDS else "missed"
    print(f"| case (in-process, N = 1,250, 60 steps, {method}) | median s | max s |")
    print("|---|---|---|")
    print(f"| cold page forecast (reference) | {cold_forecast:.3f} | {max(forecasts):.3f} |")
    print(
        f"| cold page backtest, {cutoffs} origins, 11 levels | {cold_backtest:.3f} | "
        f"{max(backtests):.3f} |"
    )
    print(
        f"\nbacktest ÷ forecast: {cold_backtest / cold_forecast:.1f}×; target "
        f"≤ {TARGET_SECONDS:.0f} s cold: {verdict} ({rounds} rounds)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--method", default="calibrated", choices=["calibrated", "prophet"])
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.method))
