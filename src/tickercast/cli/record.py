"""The track record's commands: `tickercast db upgrade`, `tickercast score` and
`tickercast record TICKER... --from --to --every` (settings from the environment, through
`tickercast.settings`)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import secrets
from collections.abc import AsyncIterator, Sequence

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
    print(f"tickercast score: {run.steps_scored} steps scored, {run.groups_refreshed} totals kept")
    return 0


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
                    print(f"{prices.ticker} {method}: {len(shown)} forecasts replayed, {new} new")
        run = scorer.score(engine, price_reader(providers))
        print(f"tickercast record: {run.steps_scored} steps scored")
        for row in queries.ranking(engine, "replayed"):
            if row["ticker"] in {t.upper() for t in tickers}:
                print(
                    f"  {row['ticker']} {row['method']}: {row['forecasts']} forecasts, "
                    f"{row['scored']} prices scored, MASE {row['mase']}, "
                    f"coverage {row['coverage']}"
                )
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
