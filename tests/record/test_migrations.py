"""Migrations on an empty database and on the previous schema, on PostgreSQL and SQLite."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import insert, inspect, select

from tests.support.shown import shown
from tickercast.record import db, queries, scorer, writes
from tickercast.record.tables import forecasts, group_totals, metadata, step_scores

HEAD = "0004"


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
    writes.store(engine, [shown(as_of="2013-01-02", centre=101.0)])
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


def test_scores_kept_before_the_walks_band_stay_and_only_new_ones_count_in_the_ratio(
    database_url: str,
) -> None:
    engine = db.make_engine(database_url)
    db.upgrade(engine, "0002")
    writes.store(engine, [shown(as_of="2013-01-02", horizon=3, centre=101.0)])
    group = {"ticker": "AAPL", "source": "embedded", "kind": "live", "method": "calibrated"}
    with engine.begin() as connection:  # step 1 and the totals as the previous release wrote them
        connection.execute(
            insert(step_scores).values(
                forecast_id=1,
                step=1,
                actual=102.0,
                error=1.0,
                walk_error=2.0,
                inside=True,
                interval_score=4.0,
            )
        )
        connection.execute(
            insert(group_totals).values(
                **group,
                interval_width=0.8,
                forecasts=1,
                first_as_of=dt.date(2013, 1, 2),
                last_as_of=dt.date(2013, 1, 2),
                scored=1,
                sum_error=1.0,
                sum_walk_error=2.0,
                inside=1,
                sum_interval_score=4.0,
            )
        )
    db.upgrade(engine)
    assert db.revision(engine) == HEAD
    before = queries.summary(engine, "AAPL", "calibrated")
    assert before is not None and before["scored"] == 1
    assert before["interval_score_ratio"] is None  # nothing scored against the walk's band yet
    closes = [101.0, 99.0, 100.0, 102.0, 99.0, 100.0]
    prices = pd.Series(closes, index=pd.bdate_range("2012-12-31", periods=6))
    assert scorer.score(engine, lambda t, s: prices, dt.date(2013, 2, 1)).steps_scored == 2
    with engine.connect() as connection:
        kept = connection.execute(select(step_scores).order_by(step_scores.c.step)).all()
    assert [r.actual for r in kept] == [102.0, 99.0, 100.0]  # step 1 as it was kept
    assert kept[0].walk_interval_score is None and kept[0].origin_volatility is None
    assert None not in [kept[1].walk_interval_score, kept[2].walk_interval_score]
    after = queries.summary(engine, "AAPL", "calibrated")
    assert after is not None and after["scored"] == 3
    paired = kept[1].interval_score + kept[2].interval_score
    walk = kept[1].walk_interval_score + kept[2].walk_interval_score
    assert after["interval_score_ratio"] == pytest.approx(paired / walk, rel=1e-5)
    assert scorer.score(engine, lambda t, s: prices, dt.date(2013, 2, 1)).steps_scored == 0
    assert queries.summary(engine, "AAPL", "calibrated") == after
    engine.dispose()


def test_heroku_style_urls_are_postgresql_through_psycopg() -> None:
    engine = db.make_engine("postgres://user:secret@db.example:5432/record")
    assert (engine.dialect.name, engine.dialect.driver) == ("postgresql", "psycopg")
    assert "secret" not in repr(engine)
    engine.dispose()


def test_the_levels_go_up_and_down_and_older_forecasts_are_scored_on_their_band(
    database_url: str,
) -> None:
    engine = db.make_engine(database_url)
    db.upgrade(engine, "0003")
    writes.store(engine, [shown(as_of="2013-01-02", horizon=3, centre=101.0)])  # no levels yet
    db.upgrade(engine)
    columns = {c["name"] for c in inspect(engine).get_columns("forecast_steps")}
    assert {"lower_10", "upper_10", "lower_95", "upper_98"} <= columns
    assert "level_totals" in inspect(engine).get_table_names()
    prices = pd.Series([100.0, 102.0, 99.0, 100.0], index=pd.bdate_range("2013-01-02", periods=4))
    scorer.score(engine, lambda t, s: prices, dt.date(2013, 2, 1))
    record = queries.summary(engine, "AAPL", "calibrated")
    assert record is not None
    assert [(c["level"], c["n"]) for c in queries.calibration(engine, record)] == [(80.0, 3)]
    db.downgrade(engine, "0003")
    assert db.revision(engine) == "0003"
    assert "level_totals" not in inspect(engine).get_table_names()
    columns = {c["name"] for c in inspect(engine).get_columns("forecast_steps")}
    assert not {name for name in columns if name.startswith(("lower_", "upper_"))}
    assert "wis" not in {c["name"] for c in inspect(engine).get_columns("step_scores")}
    db.upgrade(engine)
    assert db.revision(engine) == HEAD
    engine.dispose()
