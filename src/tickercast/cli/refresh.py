"""`tickercast refresh`: the web app's settings from the environment, then the refresh of
`tickercast.web.refresh` over the tickers asked for, or with `--universe` the nightly run of
`tickercast.web.nightly` over a shard of a universe."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence

import anyio

from tickercast.cli.web_server import HINT as WEB_HINT
from tickercast.data.registry import build_providers
from tickercast.data.universe import Shard, UniverseError, load_universe
from tickercast.errors import TickercastError
from tickercast.record import db
from tickercast.runtime.serving import configure_logging, load_settings
from tickercast.settings import WebSettings
from tickercast.web.app import forecaster_from, model_client_from
from tickercast.web.metrics import WebMetrics
from tickercast.web.nightly import Night, Options, nightly
from tickercast.web.refresh import Outcome, Progress, default_tickers, plan, refresh, summary
from tickercast.web.series import DEFAULT_WINDOW, PAGE_HORIZON, PAGE_METHOD

NIGHT_BUDGET_FACTOR = 2  # the night's budget for a ticker's prices: twice a provider's timeout


def main(
    tickers: Sequence[str],
    windows: Sequence[str] | None,
    horizons: Sequence[int] | None,
    concurrency: int,
    methods: Sequence[str] | None = None,
) -> int:
    """`tickercast refresh` with the web app's settings from the environment; `None`: the
    ticker page's default window, horizon or method."""
    settings = load_settings(WebSettings, "tickercast refresh", WEB_HINT)
    if settings is None:
        return 2
    configure_logging(settings.log_level, settings.log_format)
    model = model_client_from(settings)
    forecaster = forecaster_from(settings, build_providers(settings), model, WebMetrics())

    async def run() -> list[Outcome] | None:
        chosen = list(tickers) or await default_tickers(forecaster, settings.refresh_tickers)
        try:
            jobs = plan(
                forecaster,
                chosen,
                windows or [DEFAULT_WINDOW],
                horizons or [PAGE_HORIZON],
                methods or [PAGE_METHOD],
            )
        except TickercastError as exc:
            await forecaster.close()
            print(f"tickercast refresh: {exc.client_message}", file=sys.stderr)
            return None
        return await refresh(forecaster, jobs, concurrency, Progress(len(jobs), sys.stderr).update)

    started = time.perf_counter()
    outcomes = anyio.run(run)
    if outcomes is None:
        return 2
    print(summary(outcomes, time.perf_counter() - started), flush=True)
    return 1 if any(o.error is not None for o in outcomes) else 0


def nightly_main(universe: str, shard_text: str, concurrency: int, backtests: bool = False) -> int:
    """`tickercast refresh --universe FILE --shard I/N`: 2 for a bad universe, shard or
    settings; 1 when a ticker failed for a reason other than being unknown; else 0."""
    try:
        shard = Shard.parse(shard_text)
        members = shard.take(load_universe(universe))
    except UniverseError as exc:
        print(f"tickercast refresh: {exc}", file=sys.stderr)
        return 2
    settings = load_settings(WebSettings, "tickercast refresh", WEB_HINT)
    if settings is None:
        return 2
    configure_logging(settings.log_level, settings.log_format)
    print(
        f"tickercast refresh: shard {shard} of {universe}: {len(members)} tickers",
        file=sys.stderr,
        flush=True,
    )
    model = model_client_from(settings)
    forecaster = forecaster_from(settings, build_providers(settings), model, WebMetrics())
    # A page answers with what it has after PRICE_TIME_BUDGET; the night waits for the sources
    # as long as they may take (a page's budget would turn a slow answer into a pause).
    forecaster.prices.budget = max(
        settings.price_time_budget, NIGHT_BUDGET_FACTOR * settings.provider_timeout
    )
    engine = db.open_engine(settings.record_url)
    options = Options(concurrency=max(1, concurrency), backtests=backtests)
    try:
        night: Night = anyio.run(nightly, forecaster, engine, members, sys.stderr, options)
    finally:
        engine.dispose()
    print(night.summary(), flush=True)
    return 1 if night.failed else 0
