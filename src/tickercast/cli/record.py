"""The track record's commands: `tickercast db upgrade`, `tickercast score` and
`tickercast record TICKER... --from --to --every` (settings from the environment, through
`tickercast.settings`)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import secrets
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
from pydantic import SecretStr

from tickercast.data.registry import build_providers
from tickercast.errors import NotFound
from tickercast.record import db, queries, scorer, writes
from tickercast.settings import ModelSettings, RecordSettings, ReplaySettings
from tickercast.web.model_client import ModelClient

REPLAY_TIMEOUT = 300.0  # seconds for one forecast: the first one may fit CmdStan's model


def upgrade(revision: str = "head") -> int:
    settings = RecordSettings()
    engine = db.make_engine(settings.record_url)
    try:
        db.upgrade(engine, revision)
        print(f"tickercast db: the track record's database is at revision {db.revision(engine)}")
    finally:
        engine.dispose()
    return 0


def score(today: dt.date | None = None) -> int:
    from tickercast.web.replay import price_reader

    settings = RecordSettings()
    engine = db.open_engine(settings.record_url)
    try:
        run = scorer.score(engine, price_reader(build_providers(settings)), today)
    finally:
        engine.dispose()
    print(score_sentence(run))
    return 0


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def score_sentence(run: scorer.ScoreRun) -> str:
    """e.g. "tickercast score: 2,670 prices scored; the totals of 3 groups brought up to date"."""
    groups = _plural(run.groups_refreshed, "group")
    return (
        f"tickercast score: {_plural(run.steps_scored, 'price')} scored; "
        f"the totals of {groups} brought up to date"
    )


def summary_sentence(row: dict[str, Any]) -> str:
    """One group's record as people read it, e.g. "AAPL calibrated: 50 forecasts, MASE 1.00,
    the 80% band held 90.5% of 2,670 prices, weighted interval score 0.93× the random walk's"."""
    head = f"{row['ticker']} {row['method']}: {_plural(row['forecasts'], 'forecast')}"
    if not row["scored"]:
        return f"{head}, none of their prices known yet"
    parts = [head]
    if row["mase"] is not None:
        parts.append(f"MASE {row['mase']:.2f}")
    width = f"{row['interval_width'] * 100:g}"
    held = "" if row["coverage"] is None else f"{row['coverage'] * 100:.1f}% of "
    parts.append(f"the {width}% band held {held}{_plural(row['scored'], 'price')}")
    if row.get("wis_ratio") is not None:
        parts.append(f"weighted interval score {row['wis_ratio']:.2f}× the random walk's")
    return ", ".join(parts)


@contextlib.asynccontextmanager
async def model_client(
    mock: bool, settings: ReplaySettings | None = None
) -> AsyncIterator[ModelClient]:
    """The web app's client of the model service at MODEL_API_URL when it is set, else of one
    in this process (`mock`: the mock model)."""
    settings = settings or ReplaySettings()
    if settings.model_api_url is not None:
        url = settings.model_api_url.get_secret_value()
        key = settings.model_api_key.get_secret_value()
        async with ModelClient(url, key, timeout=REPLAY_TIMEOUT) as client:
            yield client
        return
    from tickercast.model.api import create_app

    key = secrets.token_urlsafe(24)
    model_settings = ModelSettings(
        model_api_keys=SecretStr(key), model_mock=mock, model_rate_limit="1000000/minute"
    )
    app = create_app(model_settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        ModelClient("http://model/", key, timeout=REPLAY_TIMEOUT, transport=transport) as client,
    ):
        yield client


async def _record(
    tickers: Sequence[str],
    start: dt.date,
    end: dt.date,
    every: int,
    methods: Sequence[str],
    source: str,
    mock: bool,
) -> int:
    from tickercast.web.replay import price_reader, replay, replay_days

    settings = ReplaySettings()
    providers = build_providers(settings)
    if source not in providers:
        raise NotFound(
            f"There is no price source {source!r} here; choose one of {', '.join(providers)}."
        )
    engine = db.open_engine(settings.record_url)
    try:
        async with model_client(mock, settings) as client:
            for ticker in tickers:
                prices = providers[source].history(ticker)
                days = replay_days(prices.frame.index, start, end, every)
                for method in methods:
                    shown = await replay(client, prices, days, method)
                    new = writes.store(engine, shown)
                    replayed = _plural(len(shown), "forecast")
                    print(f"{prices.ticker} {method}: {replayed} replayed, {new:,} new")
        run = scorer.score(engine, price_reader(providers))
        print(f"tickercast record: {_plural(run.steps_scored, 'price')} scored")
        for row in queries.ranking(engine, "replayed"):
            if row["ticker"] in {t.upper() for t in tickers}:
                print(f"  {summary_sentence(row)}")
    finally:
        engine.dispose()
    return 0


def record(
    tickers: Sequence[str],
    start: dt.date,
    end: dt.date,
    every: int,
    methods: Sequence[str],
    source: str = "embedded",
    mock: bool = False,
) -> int:
    return asyncio.run(_record(tickers, start, end, every, methods, source, mock))
