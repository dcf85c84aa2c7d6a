"""The record's interval score against the random walk's band under the backtests' rule, and its
coverage by volatility regime: from the prices up to each forecast's as_of only."""

from __future__ import annotations

import datetime as dt
import math
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from tests.support.shown import shown
from tickercast.quant import scoring
from tickercast.record import queries, scorer, writes
from tickercast.record.tables import step_scores

LATER = dt.date(2014, 1, 1)
# Four closes to the origin (as_of 2013-01-03), then two steps.
KNOWN = pd.Series(
    [100.0, 102.0, 99.0, 101.0, 104.0, 96.0], index=pd.bdate_range("2012-12-31", periods=6)
)


@pytest.mark.parametrize("adjusted", [1.0, 0.5])  # 0.5: a 2-for-1 split after as_of
def test_the_ratio_is_our_interval_score_over_the_random_walks_band(
    engine: Engine, adjusted: float
) -> None:
    writes.store(engine, [shown(as_of="2013-01-03", horizon=2, centre=101.0, last_price=101.0)])
    scorer.score(engine, lambda t, s: KNOWN * adjusted, LATER)
    record = queries.summary(engine, "AAPL", "calibrated")
    assert record is not None
    # Ours: the band 99-103, α = 0.2: 104 is 1 above (4 + 10 × 1), 96 is 3 below (4 + 10 × 3).
    ours = [14.0, 34.0]
    # The random walk's: 101 ± z σ √k, σ the spread of the changes 2, -3, 2 (sample variance
    # 25/3); both prices fall inside it, so its score is its width.
    half = NormalDist().inv_cdf(0.9) * math.sqrt(25 / 3)
    walk = [2 * half, 2 * half * math.sqrt(2)]
    assert walk[0] / 2 > 104 - 101 and walk[1] / 2 > 101 - 96
    assert record["interval_score_ratio"] == pytest.approx(sum(ours) / sum(walk), rel=1e-5)
    by_step = [s["interval_score_ratio"] for s in record["by_step"]]
    assert by_step == pytest.approx([ours[0] / walk[0], ours[1] / walk[1]], rel=1e-5)
    (step,) = queries.coverage_by_step(engine)[:1]
    assert step["interval_score_ratio"] == pytest.approx(ours[0] / walk[0], rel=1e-5)
    (month,) = queries.by_month(engine, record)
    assert month["interval_score_ratio"] == record["interval_score_ratio"]


def _steps(as_of: dt.date, horizon: int, last_price: float) -> pd.DataFrame:
    days = pd.bdate_range(pd.Timestamp(as_of) + pd.offsets.BDay(1), periods=horizon)
    return pd.DataFrame(
        {
            "forecast_id": 1,
            "step": np.arange(1, horizon + 1),
            "ds": [d.date() for d in days],
            "yhat": last_price,
            "yhat_lower": last_price * 0.95,
            "yhat_upper": last_price * 1.05,
            "as_of": as_of,
            "last_price": last_price,
        }
    )


@settings(max_examples=50, deadline=None)
@given(
    before=st.lists(st.floats(1.0, 1000.0), min_size=2, max_size=40),
    after=st.lists(st.floats(1.0, 1000.0), min_size=3, max_size=3),
    later=st.lists(st.floats(1.0, 1000.0), min_size=3, max_size=3),
)
def test_a_later_price_never_changes_the_origins_volatility_or_the_walks_band(
    before: list[float], after: list[float], later: list[float]
) -> None:
    days = pd.bdate_range("2012-01-02", periods=len(before) + 3)
    as_of = days[len(before) - 1].date()
    steps = _steps(as_of, 3, before[-1])

    def scored(tail: list[float]) -> list[dict]:
        return scorer.score_rows(steps, pd.Series(before + tail, index=days), 0.8)

    first, second = scored(after), scored(later)
    assert [r["origin_volatility"] for r in first] == [r["origin_volatility"] for r in second]
    volatility = scoring.trailing_volatility(before)
    assert all(
        r["origin_volatility"] == (volatility if math.isfinite(volatility) else None) for r in first
    )
    # The band is the same: what changes is only how far each later price fell outside it.
    for one, other in zip(first, second, strict=True):
        if one["actual"] == other["actual"]:
            assert one["walk_interval_score"] == other["walk_interval_score"]


def test_regime_coverage_is_by_thirds_of_the_groups_origins(engine: Engine) -> None:
    # Calm for 30 sessions, then stormy: the origins' trailing volatility rises through them.
    rng = np.random.default_rng(7)
    moves = np.r_[rng.normal(0, 0.002, 30), rng.normal(0, 0.03, 30)]
    closes = pd.Series(
        100 * np.exp(np.cumsum(moves)), index=pd.bdate_range("2013-01-01", periods=60)
    )
    origins = closes.index[20:56:4]  # nine origins, three in each third
    forecasts = [
        shown(
            as_of=str(d.date()),
            horizon=2,
            centre=float(closes[d]),
            half=0.6,
            last_price=float(closes[d]),
        )
        for d in origins
    ]
    writes.store(engine, forecasts)
    scorer.score(engine, lambda t, s: closes, LATER)
    record = queries.summary(engine, "AAPL", "calibrated")
    assert record is not None
    shares = queries.regime_coverage(engine, record)
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                step_scores.c.forecast_id, step_scores.c.inside, step_scores.c.origin_volatility
            ).order_by(step_scores.c.forecast_id, step_scores.c.step)
        ).all()
    volatility = [scoring.trailing_volatility(closes[:d].to_numpy()) for d in origins]
    assert [r.origin_volatility for r in rows[::2]] == pytest.approx(volatility)
    third = scoring.regimes(volatility)
    assert sorted(third) == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    inside = np.array([r.inside for r in rows], dtype=bool)
    expected = scoring.regime_coverage(inside, np.repeat(third, 2))
    assert shares == pytest.approx(expected, abs=1e-6)
    assert shares["calm"] > shares["stormy"]  # the same narrow band, rougher seas


def test_rows_scored_before_the_walks_band_are_left_out_of_the_ratio(engine: Engine) -> None:
    writes.store(engine, [shown(as_of="2013-01-03", horizon=2, centre=101.0, last_price=101.0)])
    scorer.score(engine, lambda t, s: KNOWN, LATER)
    full = queries.summary(engine, "AAPL", "calibrated")
    with engine.begin() as connection:  # step 1 as a release before the walk's band scored it
        connection.execute(
            step_scores.update()
            .where(step_scores.c.step == 1)
            .values(walk_interval_score=None, origin_volatility=None)
        )
        scorer.refresh_totals(connection, ("AAPL", "embedded", "live", "calibrated", 0.8))
    record = queries.summary(engine, "AAPL", "calibrated")
    assert record is not None and full is not None
    assert record["scored"] == 2 and record["interval_score"] == full["interval_score"]
    assert record["interval_score_ratio"] == full["by_step"][1]["interval_score_ratio"]
    assert record["by_step"][0]["interval_score_ratio"] is None
    # Step 2 only (96, below the band); one origin is its own top third.
    assert queries.regime_coverage(engine, record) == {"calm": None, "middle": None, "stormy": 0.0}
