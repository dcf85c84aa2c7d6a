"""Nothing lost, nothing blocked: forecasts shown while the database is down are written when
it is back, once each; the buffer is bounded, counted, and kept in Redis across workers."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine, func, select

from tests.support.loop import run
from tests.support.postgres_server import PostgresServer, postgres_server
from tests.support.shown import shown
from tickercast.cli.processes import free_port
from tickercast.record import db
from tickercast.record.buffer import REDIS_KEY, Recorder
from tickercast.record.tables import forecast_views, forecasts
from tickercast.record.writes import ShownForecast
from tickercast.runtime.redis_store import Store

DAYS = [f"2013-01-{d:02d}" for d in range(2, 31)]


def stored_views(engine: Engine) -> dict[tuple[str, str], int]:
    """Views by (ticker, as_of); the rows must be one per forecast."""
    query = (
        select(forecasts.c.ticker, forecasts.c.as_of, forecast_views.c.views)
        .select_from(forecasts.join(forecast_views))
        .order_by(forecasts.c.id)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
        assert connection.execute(select(func.count()).select_from(forecasts)).scalar() == len(rows)
    out: dict[tuple[str, str], int] = {}
    for ticker, as_of, views in rows:
        key = (ticker, as_of.isoformat())
        assert key not in out, f"{key} stored twice"
        out[key] = views
    return out


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A cluster of the test's own, to stop and start."""
    with postgres_server() as server:
        yield server


def migrated(url: str) -> Engine:
    engine = db.make_engine(url)
    db.upgrade(engine)
    return engine


def test_views_of_one_forecast_are_merged_and_written(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"

    async def scenario() -> int:
        recorder = Recorder(url)
        for _ in range(5):
            recorder.show(shown())
        recorder.show(shown(ticker="MSFT"))
        written = await recorder.write()
        await recorder.close()
        return written

    assert run(scenario()) == 2
    engine = migrated(url)
    assert stored_views(engine) == {("AAPL", "2013-01-02"): 5, ("MSFT", "2013-01-02"): 1}
    engine.dispose()


def test_a_full_buffer_drops_the_oldest_and_counts_them() -> None:
    nobody = f"postgresql://postgres@127.0.0.1:{free_port()}/none"

    async def scenario() -> Recorder:
        recorder = Recorder(nobody, max_buffered=3)
        for day in DAYS[:5]:
            recorder.show(shown(as_of=day))
        assert await recorder.write() == 0
        return recorder

    recorder = run(scenario())
    assert not recorder.available
    assert recorder.metrics.dropped._value.get() == 2
    assert recorder.metrics.buffered._value.get() == 3
    assert recorder.metrics.up._value.get() == 0
    kept = [ShownForecast.from_json(orjson.loads(item)) for item in recorder._buffer]
    assert [one.as_of.isoformat() for one in kept] == DAYS[2:5]


def test_a_database_stopped_under_load_ends_with_every_shown_forecast_once(
    own_postgres: PostgresServer,
) -> None:
    url = own_postgres.create_database("record")
    engine = migrated(url)
    shown_count: Counter[tuple[str, str]] = Counter()
    rng = random.Random(7)

    async def scenario() -> Recorder:
        recorder = Recorder(url, interval=0.05)
        recorder.start()

        async def views(n: int) -> None:
            for _ in range(n):
                ticker, day = rng.choice(["AAPL", "MSFT", "IBM"]), rng.choice(DAYS)
                recorder.show(shown(ticker=ticker, as_of=day))
                shown_count[ticker, day] += 1
                await asyncio.sleep(0.002)

        await views(100)
        await asyncio.to_thread(own_postgres.stop, "immediate")
        await views(200)
        for _ in range(600):  # until a flush has met the stopped database (30 s at most)
            if not recorder.available:
                break
            await asyncio.sleep(0.05)  # poll
        assert not recorder.available
        await asyncio.to_thread(own_postgres.start)
        await views(100)
        for _ in range(200):
            await asyncio.sleep(0.05)  # poll
            if recorder.available and recorder.metrics.buffered._value.get() == 0:
                break
        await recorder.close()
        return recorder

    recorder = run(scenario())
    assert recorder.available
    assert recorder.metrics.dropped._value.get() == 0
    assert stored_views(engine) == dict(shown_count)
    assert recorder.metrics.views._value.get() == sum(shown_count.values())
    engine.dispose()


def test_a_worker_stopped_while_the_database_is_down_leaves_its_views_in_redis(
    redis_url: str, tmp_path: Path
) -> None:
    down = f"postgresql://postgres@127.0.0.1:{free_port()}/none"
    up = f"sqlite:///{tmp_path / 'r.sqlite3'}"

    async def first_worker() -> None:
        shared = Store(redis_url)
        recorder = Recorder(down, shared=shared)
        for day in DAYS[:4]:
            recorder.show(shown(as_of=day))
            recorder.show(shown(as_of=day))
        await recorder.close()  # the database is down: the views stay in Redis
        await shared.close()
        assert recorder.metrics.dropped._value.get() == 0

    async def next_worker() -> int:
        shared = Store(redis_url)
        recorder = Recorder(up, shared=shared)
        written = await recorder.write()
        left = await shared.call(lambda r: r.llen(REDIS_KEY))
        await recorder.close()
        await shared.close()
        assert left == 0
        return written

    run(first_worker())
    assert run(next_worker()) == 4
    engine = migrated(up)
    assert stored_views(engine) == {("AAPL", day): 2 for day in DAYS[:4]}
    engine.dispose()
