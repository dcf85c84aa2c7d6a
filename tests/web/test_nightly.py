"""`tickercast refresh --universe FILE --shard I/N`: every ticker of a universe, every night,
with Yahoo replayed on this machine for synthetic symbols (scaled copies of the embedded real
prices) and the model service in mock mode."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import orjson
import pytest
from sqlalchemy import Engine, text

from tests.conftest import MODEL_KEYS
from tests.support import fakes
from tests.support.procs import ServiceProcess
from tests.support.redis_server import own_redis
from tests.support.yahoo_replay import LAST_DAY, Listing, YahooReplay
from tickercast.data.prices import PriceBook
from tickercast.data.universe import Member, Shard
from tickercast.data.yahoo import YahooProvider
from tickercast.model.api import create_app as create_model_app
from tickercast.record import db
from tickercast.runtime.redis_store import Store
from tickercast.settings import ModelSettings
from tickercast.web.app import forecaster_from
from tickercast.web.forecasts import Forecaster
from tickercast.web.metrics import WebMetrics
from tickercast.web.model_client import ModelClient, ModelRejected
from tickercast.web.nightly import Night, Options, nightly
from tickercast.web.series import DEFAULT_WINDOW, PAGE_HORIZON, PAGE_METHOD, Choices

SOURCES = ("AAPL", "IBM", "MSFT", "GOOG")  # embedded tickers with prices over the whole span
DAY_ONE, DAY_TWO = "2026-11-02", "2026-11-03"  # two NYSE sessions in a row
PAGE = Choices.parse(DEFAULT_WINDOW, PAGE_HORIZON, None, PAGE_METHOD)


def serve_universe(yahoo: YahooReplay, count: int, day: str) -> list[Member]:
    """`count` synthetic symbols, each its own scaled copy of real prices ending on `day`."""
    members = []
    for i in range(count):
        symbol = f"N{i:03d}"
        source = SOURCES[i % len(SOURCES)]
        scale = 1 + i / 1000
        yahoo.serve(
            symbol, Listing(source, "2011-03-01", LAST_DAY, symbol, scale=scale, moved_to=day)
        )
        members.append(Member(symbol, f"Company {i}"))
    return members


class Counting(httpx.AsyncBaseTransport):
    """The model over HTTP (or, `in_process`, the model app in mock mode in this process),
    keeping the path and body of each request."""

    def __init__(self, in_process: bool = False) -> None:
        self.inner: httpx.AsyncBaseTransport = httpx.AsyncHTTPTransport()
        if in_process:
            settings = ModelSettings(
                model_api_keys=fakes.KEY,  # type: ignore[arg-type]
                model_mock=True,
                model_rate_limit="100000/second",
            )
            self.inner = httpx.ASGITransport(create_model_app(settings))
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        self.sent.append((request.url.path, orjson.loads(body) if body else {}))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def batched_ids(self) -> list[str]:
        return [s["id"] for path, body in self.sent if path == "/batch" for s in body["series"]]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    made = db.open_engine(f"sqlite:///{tmp_path / 'record.sqlite3'}")
    yield made
    made.dispose()


def yahoo_only(yahoo: YahooReplay, folder: Path, now: Any = None) -> dict[str, Any]:
    options = {} if now is None else {"now": now}
    return {"yahoo": YahooProvider(folder, session=yahoo.session(), timeout=10.0, **options)}


def run(forecaster: Forecaster, engine: Engine, members: list[Member], **kw: Any) -> Night:
    out = io.StringIO()

    async def go() -> Night:
        return await nightly(forecaster, engine, members, out, **kw)

    night = anyio.run(go)
    assert f"{len(members)}/{len(members)} tickers" in out.getvalue()  # the progress lines
    return night


def nightly_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as c:
        rows = c.execute(
            text("SELECT ticker, count(*) FROM forecasts WHERE kind = 'nightly' GROUP BY ticker")
        )
        return {ticker: n for ticker, n in rows}


def scored_nightly(engine: Engine) -> int:
    with engine.connect() as c:
        return int(
            c.execute(
                text(
                    "SELECT count(*) FROM step_scores s JOIN forecasts f "
                    "ON f.id = s.forecast_id WHERE f.kind = 'nightly'"
                )
            ).scalar_one()
        )


@pytest.mark.slow
def test_two_shards_forecast_and_record_every_ticker_once_and_warm_the_pages(
    yahoo: YahooReplay,
    yahoo_folder: Path,
    mock_service: ServiceProcess,
    engine: Engine,
) -> None:
    members = serve_universe(yahoo, 500, DAY_ONE) + [Member("ZZZZ")]  # ZZZZ: no source has it
    with own_redis() as redis:
        settings = fakes.settings(redis_url=redis.url, model_api_timeout=60.0)
        transports = []
        nights = []
        for index in range(2):
            transport = Counting()
            transports.append(transport)
            model = ModelClient(mock_service.url + "/", MODEL_KEYS[0], transport=transport)
            forecaster = forecaster_from(
                settings, yahoo_only(yahoo, yahoo_folder), model, WebMetrics()
            )
            shard = Shard(index, 2).take(members)
            nights.append(run(forecaster, engine, shard, options=Options(concurrency=6)))
        # Every ticker in exactly one shard, forecast once through POST /batch, recorded once.
        assert sorted(r.symbol for n in nights for r in n.results) == sorted(
            m.symbol for m in members
        )
        assert [n.failed for n in nights] == [[], []]
        unknown = [r.symbol for n in nights for r in n.results if r.status == "unknown"]
        assert unknown == ["ZZZZ"]
        asked = [i for t in transports for i in t.batched_ids()]
        assert sorted(asked) == sorted(m.symbol for m in members[:-1])
        assert all(path == "/batch" for t in transports for path, _ in t.sent)
        assert nightly_counts(engine) == {m.symbol: 1 for m in members[:-1]}
        # The ticker page's own request is now a cache hit: the model is asked nothing.
        page_transport = Counting()
        model = ModelClient(mock_service.url + "/", MODEL_KEYS[0], transport=page_transport)
        page = forecaster_from(settings, yahoo_only(yahoo, yahoo_folder), model, WebMetrics())

        async def show() -> list[dict[str, Any]]:
            try:
                return [await page.ticker_forecast(s, None, PAGE) for s in ("N000", "N333")]
            finally:
                await page.close()

        shown = anyio.run(show)
        assert [s["ticker"] for s in shown] == ["N000", "N333"]
        assert page_transport.sent == []


def test_yesterdays_forecasts_are_scored_once_when_the_day_moves_on(
    yahoo: YahooReplay, yahoo_folder: Path, engine: Engine
) -> None:
    members = serve_universe(yahoo, 6, DAY_ONE)
    first = run(fake_forecaster(yahoo_only(yahoo, yahoo_folder)), engine, members)
    assert [r.status for r in first.results] == ["ok"] * 6
    assert first.scored.steps_scored == 0 and scored_nightly(engine) == 0
    serve_universe(yahoo, 6, DAY_TWO)
    second = run(fake_forecaster(yahoo_only(yahoo, yahoo_folder)), engine, members)
    assert second.scored.steps_scored == 6  # each of yesterday's forecasts: its first step
    assert scored_nightly(engine) == 6
    again = run(fake_forecaster(yahoo_only(yahoo, yahoo_folder)), engine, members)
    assert again.scored.steps_scored == 0 and scored_nightly(engine) == 6
    assert nightly_counts(engine) == {m.symbol: 2 for m in members}  # one a day, not a run


def fake_forecaster(providers: dict[str, Any], book: Any = None) -> Forecaster:
    """A forecaster asking the mock model in this process."""
    client = ModelClient(fakes.MODEL_URL, fakes.KEY, timeout=30, transport=Counting(True))
    forecaster = forecaster_from(fakes.settings(), providers, client, WebMetrics())
    if book is not None:
        forecaster.prices = book
    return forecaster


class FakeTime:
    """A clock that moves only when the job sleeps; the replay heals while it does."""

    def __init__(self, yahoo: YahooReplay) -> None:
        self.now = 0.0
        self.slept: list[float] = []
        self.yahoo = yahoo

    def clock(self) -> float:
        return self.now

    def wall(self) -> dt.datetime:
        return dt.datetime(2026, 11, 3, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=self.now)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        self.yahoo.heal()
        await anyio.lowlevel.checkpoint()


def test_a_providers_rate_limit_pauses_the_fetches_and_resumes(
    yahoo: YahooReplay, yahoo_folder: Path, engine: Engine
) -> None:
    members = serve_universe(yahoo, 3, DAY_ONE)
    yahoo.fail("N001", 429)
    time = FakeTime(yahoo)
    providers = yahoo_only(yahoo, yahoo_folder)
    book = PriceBook(providers, Store(None), clock=time.wall)  # kept failures expire by it
    forecaster = fake_forecaster(providers, book=book)
    out = io.StringIO()

    async def go() -> Night:
        return await nightly(forecaster, engine, members, out, sleep=time.sleep, clock=time.clock)

    night = anyio.run(go)
    assert [r.status for r in night.results] == ["ok"] * 3
    assert time.slept == [61.0]  # Yahoo's wait (and a second), once, for every fetch
    assert len(night.paused) == 1 and "N001" in night.paused[0][1]
    assert "pausing the price fetches for 61 s" in out.getvalue()
    assert yahoo.history_requests("N001") >= 2  # asked again after the pause
    assert nightly_counts(engine) == {m.symbol: 1 for m in members}


def test_a_provider_that_keeps_failing_is_a_failure_with_its_reason(
    yahoo: YahooReplay, yahoo_folder: Path, engine: Engine
) -> None:
    members = serve_universe(yahoo, 2, DAY_ONE)
    yahoo.fail("N000", 429)

    class NeverHeals(FakeTime):
        async def sleep(self, seconds: float) -> None:
            self.slept.append(seconds)
            self.now += seconds

    time = NeverHeals(yahoo)
    providers = yahoo_only(yahoo, yahoo_folder)
    forecaster = fake_forecaster(providers, book=PriceBook(providers, Store(None), clock=time.wall))

    async def go() -> Night:
        options = Options(price_attempts=3)
        return await nightly(
            forecaster, engine, members, io.StringIO(), options, time.sleep, time.clock
        )

    night = anyio.run(go)
    (failed,) = night.failed
    assert failed.symbol == "N000" and "3 attempts" in (failed.reason or "")
    assert "limiting" in night.summary() or "did not answer" in night.summary()
    assert time.slept == [61.0, 61.0]  # paused between the tries, not after the last


def test_the_model_busy_for_a_series_is_asked_again_after_its_wait(engine: Engine) -> None:
    calls: list[list[str]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        body = orjson.loads(request.content)
        shared = {k: v for k, v in body.items() if k != "series"}
        ids = [s["id"] for s in body["series"]]
        calls.append(ids)
        forecasts, errors = {}, {}
        for item in body["series"]:
            if item["id"] == "BOLT" and len(calls) == 1:
                errors["BOLT"] = {"status": 503, "message": "busy", "retry_after": 7}
                continue
            single = {**shared, **{k: v for k, v in item.items() if k != "id"}}
            forecasts[item["id"]] = fakes.forecast_answer(orjson.dumps(single)).json()
        headers = {"X-Model-Version": fakes.FAKE_VERSION}
        content = orjson.dumps({"forecasts": forecasts, "errors": errors})
        return httpx.Response(200, content=content, headers=headers)

    client = ModelClient("http://model.test/", fakes.KEY, transport=httpx.MockTransport(answer))
    forecaster = forecaster_from(fakes.settings(), fakes.providers(), client, WebMetrics())
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def go() -> Night:
        members = [Member("ACME"), Member("BOLT")]
        return await nightly(forecaster, engine, members, io.StringIO(), sleep=sleep)

    night = anyio.run(go)
    assert [r.status for r in night.results] == ["ok", "ok"]
    assert calls == [["ACME", "BOLT"], ["BOLT"]] and slept == [7.0]
    assert nightly_counts(engine) == {"ACME": 1, "BOLT": 1}


def test_the_record_keeps_nightly_forecasts_without_views(engine: Engine) -> None:
    forecaster = fake_forecaster(fakes.providers())
    night = run(forecaster, engine, [Member("ACME")])
    assert [r.status for r in night.results] == ["ok"]
    with engine.connect() as c:
        views = c.execute(text("SELECT views FROM forecast_views")).scalars().all()
    assert views == [0]


# --- the command ---------------------------------------------------------------------------


def command_env(yahoo: YahooReplay, folder: Path, model: ServiceProcess, tmp: Path) -> dict:
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        "MODEL_API_URL": model.url + "/",
        "MODEL_API_KEY": MODEL_KEYS[0],
        "YAHOO_PRICES": "true",
        "YAHOO_PROXY": yahoo.proxy_url,
        "YAHOO_CA_BUNDLE": str(yahoo.ca_file),
        "YAHOO_CACHE_DIR": str(folder),
        "DATABASE_URL": f"sqlite:///{tmp / 'record.sqlite3'}",
        "LOG_LEVEL": "WARNING",
    }


def refresh(universe: Path, env: dict, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tickercast", "refresh", "--universe", str(universe), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_the_command_reports_an_unknown_symbol_and_exits_1_only_on_a_failure(
    yahoo: YahooReplay,
    yahoo_folder: Path,
    mock_service: ServiceProcess,
    tmp_path: Path,
) -> None:
    serve_universe(yahoo, 3, DAY_ONE)
    # Ten sessions: too few for the calibrated forecast the page asks (the model refuses it).
    yahoo.serve("SHORT", Listing("IBM", "2013-02-14", LAST_DAY, "Short", moved_to=DAY_ONE))
    env = command_env(yahoo, yahoo_folder, mock_service, tmp_path)
    universe = tmp_path / "universe.csv"
    universe.write_text(
        "# three known, one unknown\nsymbol,name\nN000,A\n\nN001,B\nN002,C\nZZZZ,D\n"
    )
    done = refresh(universe, env, "--shard", "0/1")
    assert done.returncode == 0, done.stderr
    assert "3 of 4 tickers forecast and recorded" in done.stdout
    assert "unknown ZZZZ" in done.stdout and "0 failed" in done.stdout
    assert "4/4 tickers" in done.stderr and "unknown: ZZZZ" in done.stderr

    universe.write_text("symbol\nN000\nSHORT\n")
    failing = refresh(universe, env)
    assert failing.returncode == 1
    assert "failed SHORT: " in failing.stdout and "SHORT failed: " in failing.stderr

    universe.write_text("ticker,name\nN000,A\n")
    bad = refresh(universe, env)
    assert bad.returncode == 2 and "no symbol column" in bad.stderr
    assert refresh(universe, env, "--shard", "2/2").returncode == 2


def test_with_backtests_a_morning_pages_backtest_is_in_the_cache(engine: Engine) -> None:
    forecaster = fake_forecaster(fakes.providers())
    transport = forecaster.model._transport
    assert isinstance(transport, Counting)
    night = run(
        forecaster, engine, [Member("ACME"), Member("BOLT")], options=Options(backtests=True)
    )
    assert [r.status for r in night.results] == ["ok", "ok"] and night.unwarmed == []
    warmed = [body for path, body in transport.sent if path == "/backtest"]
    assert len(warmed) == 1 and [s["id"] for s in warmed[0]["series"]] == ["ACME", "BOLT"]
    sent = len(transport.sent)

    async def page() -> dict[str, Any]:
        forecaster.model.reopen()
        try:
            return await forecaster.ticker_backtest("ACME", None, PAGE)
        finally:
            await forecaster.close()

    shown = anyio.run(page)
    assert shown["cutoffs"] == 50 and len(transport.sent) == sent  # a cache hit: no request


def test_a_backtest_the_model_refuses_is_reported_not_a_failure(engine: Engine) -> None:
    forecaster = fake_forecaster(fakes.providers())

    original = forecaster.model_answers

    async def answers(kind: Any, requests: Any, *args: Any) -> Any:
        found = await original(kind, requests, *args)
        if kind == "backtest":
            found["ACME"] = ModelRejected("too few rows")
        return found

    forecaster.model_answers = answers  # type: ignore[method-assign]
    night = run(forecaster, engine, [Member("ACME")], options=Options(backtests=True))
    assert [r.status for r in night.results] == ["ok"] and night.failed == []
    assert [(r.symbol, r.reason) for r in night.unwarmed] == [
        ("ACME", "its backtest: The forecasting service could not use this series: too few rows.")
    ]
    assert "no backtest ACME" in night.summary()
