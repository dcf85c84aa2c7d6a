"""Storing shown forecasts: one row per forecast however many show it at once, views apart."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, func, select

from tests.support.shown import shown
from tickercast.record import writes
from tickercast.record.tables import forecast_steps, forecast_views, forecasts


def count(engine: Engine, table: object) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def views(engine: Engine) -> list[int]:
    with engine.connect() as connection:
        query = select(forecast_views.c.views).order_by(forecast_views.c.forecast_id)
        return list(connection.execute(query).scalars())


def test_a_forecast_shown_again_is_one_row_with_its_views_counted(engine: Engine) -> None:
    assert writes.store(engine, [shown()]) == 1
    assert writes.store(engine, [shown(), shown()]) == 0
    assert count(engine, forecasts) == 1
    assert count(engine, forecast_steps) == 3
    assert views(engine) == [3]


@pytest.mark.parametrize(
    "change",
    [
        {"ticker": "MSFT"},
        {"source": "tiingo"},
        {"kind": "replayed"},
        {"as_of": "2013-01-03"},
        {"method": "prophet"},
        {"model_version": "fast/0.2.0"},
        {"interval_width": 0.9},
        {"horizon": 4},
    ],
)
def test_each_part_of_the_key_makes_another_forecast(engine: Engine, change: dict) -> None:
    writes.store(engine, [shown(), shown(**change)])
    assert count(engine, forecasts) == 2


def test_what_is_not_in_the_key_does_not_change_a_stored_forecast(engine: Engine) -> None:
    writes.store(engine, [shown(centre=100.0, window="1y")])
    writes.store(engine, [shown(centre=150.0, window="5y")])
    with engine.connect() as connection:
        assert connection.execute(select(forecasts.c.window)).scalar_one() == "1y"
        assert set(connection.execute(select(forecast_steps.c.yhat)).scalars()) == {100.0}


def test_concurrent_views_store_one_row(postgres_engine: Engine) -> None:
    """SQLite has one writer at a time: the race is PostgreSQL's."""
    engine = postgres_engine
    workers = 12
    barrier = threading.Barrier(workers)

    def show(_: int) -> int:
        barrier.wait()
        return writes.store(engine, [shown(), shown(ticker="MSFT")])

    with ThreadPoolExecutor(workers) as pool:
        made = list(pool.map(show, range(workers)))
    assert sum(made) == 2
    assert count(engine, forecasts) == 2
    assert count(engine, forecast_steps) == 6
    assert views(engine) == [workers, workers]


def test_merge_views_adds_up_repeats() -> None:
    first, again = shown(), shown()
    merged = writes.merge_views([first, shown(ticker="MSFT"), again])
    assert [(m.ticker, m.views) for m in merged] == [("AAPL", 2), ("MSFT", 1)]
    assert merged[0].shown_at == max(first.shown_at, again.shown_at)


def test_a_shown_forecast_survives_json() -> None:
    one = shown(views=3)
    assert writes.ShownForecast.from_json(one.to_json()) == one


@pytest.mark.parametrize("bad", [{"kind": "guessed"}, {"steps": ()}])
def test_a_forecast_that_cannot_be_is_refused(bad: dict) -> None:
    with pytest.raises(ValueError):
        shown(**bad)
