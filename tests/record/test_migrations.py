"""Migrations on an empty database and on the previous schema, on PostgreSQL and SQLite."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import insert, inspect, select

from tests.record.shown import shown
from tickercast.record import db, queries, scorer, store
from tickercast.record.tables import forecasts, metadata

HEAD = "0002"


def test_an_empty_database_is_migrated_to_every_table(database_url: str) -> None:
    engine = db.make_engine(database_url)
    assert db.revision(engine) is None
    db.upgrade(engine)
    db.upgrade(engine)  # again: nothing to do
    assert db.revision(engine) == HEAD
    tables = set(inspect(engine).get_table_names())
    assert set(metadata.tables) <= tables
    engine.dispose()


def test_the_previous_schema_keeps_its_forecasts_and_they_are_scored_after(
    database_url: str,
) -> None:
    engine = db.make_engine(database_url)
    db.upgrade(engine, "0001")
    assert db.revision(engine) == "0001"
    assert "step_scores" not in inspect(engine).get_table_names()
    store.store(engine, [shown(as_of="2013-01-02", centre=101.0)])
    with engine.begin() as connection:  # a row as the previous release wrote it, by hand
        connection.execute(
            insert(forecasts).values(
                ticker="MSFT",
                source="embedded",
                kind="live",
                as_of=dt.date(2013, 1, 2),
                method="prophet",
                model_version="cmdstan/0.0.9",
                interval_width=0.8,
                horizon=1,
                window=None,
                last_price=27.0,
                stored_at=dt.datetime(2013, 1, 2, tzinfo=dt.UTC),
            )
        )
    db.upgrade(engine)
    assert db.revision(engine) == HEAD
    with engine.connect() as connection:
        assert connection.execute(select(forecasts.c.ticker).order_by("id")).scalars().all() == [
            "AAPL",
            "MSFT",
        ]
    prices = pd.Series([100.0, 102.0, 99.0, 100.0], index=pd.bdate_range("2013-01-02", periods=4))
    run = scorer.score(engine, lambda t, s: prices if t == "AAPL" else None, dt.date(2013, 2, 1))
    assert run.steps_scored == 3
    record = queries.summary(engine, "AAPL", "calibrated")
    assert record is not None and record["scored"] == 3
    engine.dispose()


def test_heroku_style_urls_are_postgresql_through_psycopg() -> None:
    engine = db.make_engine("postgres://user:secret@db.example:5432/record")
    assert (engine.dialect.name, engine.dialect.driver) == ("postgresql", "psycopg")
    assert "secret" not in repr(engine)
    engine.dispose()
