"""Scoring: each score against the scoring module, once per step, resumable, and blind to a
split after the forecast's as_of."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, select

from tests.support.shown import shown
from tickercast.quant import scoring
from tickercast.record import queries, scorer, writes
from tickercast.record.tables import (
    group_totals,
    level_totals,
    month_totals,
    step_scores,
    step_totals,
)

DAYS = pd.bdate_range("2013-01-01", periods=40)
AAPL = pd.Series(100.0 + np.sin(np.arange(40.0)) * 3, index=DAYS)
MSFT = pd.Series(30.0 + np.arange(40.0) * 0.1, index=DAYS)
LATER = dt.date(2014, 1, 1)


def prices(ticker: str, source: str) -> pd.Series | None:
    return {"AAPL": AAPL, "MSFT": MSFT}.get(ticker)


def snapshot(engine: Engine) -> dict[str, list[tuple]]:
    with engine.connect() as connection:
        return {
            t.name: sorted(tuple(r) for r in connection.execute(select(t)))
            for t in (step_scores, group_totals, step_totals, month_totals, level_totals)
        }


def some_forecasts() -> list[writes.ShownForecast]:
    out = []
    for k, day in enumerate(DAYS[:30:5]):
        for ticker, series in (("AAPL", AAPL), ("MSFT", MSFT)):
            last = float(series[day])
            out.append(
                shown(ticker, str(day.date()), horizon=5, centre=last + k % 3, last_price=last)
            )
    return out


def test_scores_are_the_scoring_modules_and_the_totals_add_them_up(engine: Engine) -> None:
    writes.store(engine, [shown("AAPL", "2013-01-01", horizon=3, centre=101.0, half=1.5)])
    run = scorer.score(engine, prices, LATER)
    assert run.steps_scored == 3
    actual = AAPL.iloc[1:4].to_numpy()
    record = queries.summary(engine, "AAPL", "calibrated")
    assert record is not None
    errors = scoring.absolute_error(101.0, actual)
    walk = scoring.random_walk_error(100.0, actual)
    assert record["scored"] == 3
    assert record["mase"] == pytest.approx(scoring.mase(errors, walk), rel=1e-5)
    assert record["coverage"] == pytest.approx(scoring.inside_band(99.5, 102.5, actual).mean())
    assert record["interval_score"] == pytest.approx(
        scoring.interval_score(99.5, 102.5, actual, 0.8).mean(), rel=1e-5
    )
    assert [s["step"] for s in record["by_step"]] == [1, 2, 3]
    assert record["by_step"][0]["mase"] == pytest.approx(errors[0] / walk[0], rel=1e-5)


def test_only_known_prices_are_scored_and_the_rest_later(engine: Engine) -> None:
    writes.store(engine, [shown("AAPL", str(DAYS[-3].date()), horizon=5)])
    assert scorer.score(engine, prices, LATER).steps_scored == 2  # two sessions left
    assert scorer.score(engine, prices, DAYS[-1].date()).steps_scored == 0
    listed = queries.stored_forecasts(engine, queries.summary(engine, "AAPL", "calibrated"))
    assert [s["actual"] is not None for s in listed[0]["steps"]] == [True, True] + [False] * 3


def test_scoring_again_changes_nothing(engine: Engine) -> None:
    writes.store(engine, some_forecasts())
    first = scorer.score(engine, prices, LATER)
    assert first.steps_scored == 60
    before = snapshot(engine)
    walk_scores = [row[-2] for row in before["step_scores"]]  # walk_interval_score
    assert None not in walk_scores and len(set(walk_scores)) > 1
    again = scorer.score(engine, prices, LATER)
    assert again == scorer.ScoreRun(0, 0)
    assert snapshot(engine) == before


def test_a_run_stopped_halfway_resumes_to_the_same_record(
    engine: Engine, database_url: str
) -> None:
    writes.store(engine, some_forecasts())

    def fails_on_msft(ticker: str, source: str) -> pd.Series | None:
        if ticker == "MSFT":
            raise KeyboardInterrupt  # stopped while scoring the second ticker
        return prices(ticker, source)

    with pytest.raises(KeyboardInterrupt):
        scorer.score(engine, fails_on_msft, LATER)
    assert queries.summary(engine, "AAPL", "calibrated")["scored"] == 30  # type: ignore[index]
    untouched = queries.summary(engine, "MSFT", "calibrated")  # stored, so shown: none scored
    assert untouched is not None and (untouched["forecasts"], untouched["scored"]) == (6, 0)
    assert scorer.score(engine, prices, LATER).steps_scored == 30
    halfway = snapshot(engine)
    with engine.begin() as connection:
        for table in (month_totals, step_totals, group_totals, level_totals, step_scores):
            connection.execute(table.delete())
    scorer.score(engine, prices, LATER)
    assert snapshot(engine) == halfway


def test_a_split_after_as_of_is_not_an_error(engine: Engine) -> None:
    writes.store(engine, some_forecasts())
    scorer.score(engine, prices, LATER)
    before = queries.summary(engine, "AAPL", "calibrated")
    assert before is not None
    regimes_before = queries.regime_coverage(engine, before)
    # The same prices after a 7-for-1 split on day 12: the adjusted history is divided by 7.
    split = AAPL / 7.0
    with engine.begin() as connection:
        for table in (month_totals, step_totals, group_totals, level_totals, step_scores):
            connection.execute(table.delete())
    scorer.score(engine, lambda t, s: split if t == "AAPL" else prices(t, s), LATER)
    after = queries.summary(engine, "AAPL", "calibrated")
    assert after is not None and before is not None
    for name in ("scored", "mase", "coverage", "interval_score", "interval_score_ratio"):
        assert after[name] == pytest.approx(before[name], rel=1e-9)
    assert queries.regime_coverage(engine, after) == regimes_before


def test_a_ticker_without_prices_is_left_for_later(engine: Engine) -> None:
    writes.store(engine, [shown("NOPE", "2013-01-02")])
    run = scorer.score(engine, prices, LATER)
    assert run.steps_scored == 0
    record = queries.summary(engine, "NOPE", "calibrated")
    assert record is not None and record["forecasts"] == 1 and record["scored"] == 0


def test_replayed_and_live_are_never_mixed(engine: Engine) -> None:
    writes.store(engine, [shown(kind="replayed", centre=90.0), shown(kind="live", centre=101.0)])
    scorer.score(engine, prices, LATER)
    live = queries.summary(engine, "AAPL", "calibrated")
    replayed = queries.summary(engine, "AAPL", "calibrated", kind="replayed")
    assert live is not None and replayed is not None
    assert (live["kind"], replayed["kind"]) == ("live", "replayed")
    assert live["forecasts"] == replayed["forecasts"] == 1
    assert live["mase"] != replayed["mase"]
    months = queries.by_month(engine, live)
    assert [m["month"] for m in months] == ["2013-01-01"]
    assert months[0]["mae"] == pytest.approx(live["mase"] * months[0]["walk_mae"], rel=1e-5)
    ranked = queries.ranking(engine)
    assert {(r["kind"], r["ticker"]) for r in ranked} == {("live", "AAPL"), ("replayed", "AAPL")}
    assert ranked[0]["mase"] <= ranked[1]["mase"]
    steps = queries.coverage_by_step(engine, "live")
    assert [s["step"] for s in steps] == [1, 2, 3]


def test_live_is_the_default_once_any_live_forecast_is_scored(engine: Engine) -> None:
    writes.store(engine, [shown(kind="replayed"), shown(kind="live", as_of=str(DAYS[-1].date()))])
    scorer.score(engine, prices, LATER)  # the live one starts on the last known day
    first = queries.summary(engine, "AAPL", "calibrated")
    assert first is not None and (first["kind"], first["scored"]) == ("replayed", 3)
    writes.store(engine, [shown(kind="live", as_of="2013-01-03")])
    scorer.score(engine, prices, LATER)
    then = queries.summary(engine, "AAPL", "calibrated")
    assert then is not None and (then["kind"], then["forecasts"]) == ("live", 2)


def test_a_shard_scores_only_its_own_tickers_and_nightly_is_a_group_of_its_own(
    engine: Engine,
) -> None:
    """`tickercast refresh --universe` scores its shard's tickers (every kind), no other's."""
    writes.store(
        engine,
        [
            shown("AAPL", "2013-01-01", horizon=3, kind="nightly"),
            shown("AAPL", "2013-01-01", horizon=3, kind="live"),
            shown("MSFT", "2013-01-01", horizon=3, kind="nightly"),
        ],
    )
    assert scorer.score(engine, prices, LATER, tickers={"AAPL"}).steps_scored == 6
    nightly = queries.summary(engine, "AAPL", "calibrated", kind="nightly")
    assert nightly is not None and (nightly["kind"], nightly["scored"]) == ("nightly", 3)
    assert queries.summary(engine, "MSFT", "calibrated", kind="nightly")["scored"] == 0  # type: ignore[index]
    assert scorer.score(engine, prices, LATER, tickers={"MSFT"}).steps_scored == 3
    assert scorer.score(engine, prices, LATER).steps_scored == 0  # each step once
