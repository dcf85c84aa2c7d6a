"""Calibration on a hand-made record: coverage by level (older forecasts at their own band's
level only), the PIT counts, the weighted interval score against the quantile random walk's,
and the biggest misses, on PostgreSQL and SQLite."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine

from tests.support.shown import shown
from tickercast.quant.levels import weighted_interval_score
from tickercast.quant.walk import quantile_walk
from tickercast.record import queries, scorer, writes
from tickercast.record.tables import LEVELS

DAYS = pd.bdate_range("2013-01-01", periods=30)
HISTORY = [100.0 + k % 2 for k in range(25)]  # 100, 101, 100, ...: ends at 100 on DAYS[24]
MOVES = [0.5, -3.5, 7.0, 12.0]  # from 100 at steps 1 to 4
PRICES = pd.Series([*HISTORY, *(100.0 + m for m in MOVES), 100.0], index=DAYS)
LATER = dt.date(2014, 1, 1)


def half(level: int) -> float:
    """The hand-made forecast's band at `level` is 100 ± level / 10."""
    return level / 10


def with_levels() -> writes.ShownForecast:
    """From DAYS[24] at 100: the median 100 at every step, each level's band ± level / 10."""
    plain = shown("AAPL", str(DAYS[24].date()), horizon=4, centre=100.0, half=half(80))
    steps = tuple(
        writes.Step(
            s.ds,
            s.yhat,
            s.yhat_lower,
            s.yhat_upper,
            tuple((k, 100 - half(k), 100 + half(k)) for k in LEVELS),
        )
        for s in plain.steps
    )
    return writes.ShownForecast(**{**plain.__dict__, "steps": steps})


def without_levels() -> writes.ShownForecast:
    """From DAYS[25] at 100.5, kept before the levels were: its 80% band only, 100.5 ± 2."""
    return shown("AAPL", str(DAYS[25].date()), horizon=1, centre=100.5, last_price=100.5)


@pytest.fixture
def scored(engine: Engine) -> dict:
    writes.store(engine, [with_levels(), without_levels()])
    scorer.score(engine, lambda t, s: PRICES, LATER)
    record = queries.summary(engine, "AAPL", "calibrated")
    assert record is not None
    return {**record, "calibration": queries.calibration(engine, record)}


def test_coverage_is_kept_per_level_and_older_forecasts_count_at_their_own(scored: dict) -> None:
    by_level = {c["level"]: c for c in scored["calibration"]}
    assert sorted(by_level) == [float(k) for k in LEVELS]
    # |move| within level / 10: 0.5 in every band, 3.5 from 40%, 7 from 70%, 12 in none.
    inside = {10: 1, 20: 1, 30: 1, 40: 2, 50: 2, 60: 2, 70: 3, 80: 3, 90: 3, 95: 3, 98: 3}
    for level, count in inside.items():
        n = 5 if level == 80 else 4  # the older forecast's one step (96.5, outside) at 80% only
        assert (by_level[level]["n"], by_level[level]["coverage"]) == (n, pytest.approx(count / n))
        assert 0.0 <= by_level[level]["low"] <= by_level[level]["coverage"]
        assert by_level[level]["coverage"] <= by_level[level]["high"] <= 1.0
    # One forecast: every resample is that forecast. At 80%, two that disagree (3 of 4, 0 of 1):
    # resampled, both twice (0.75, 0.0) or one of each (0.6).
    assert by_level[10.0]["low"] == by_level[10.0]["high"] == 0.25
    assert by_level[80.0]["low"] == 0.0 and by_level[80.0]["high"] == 0.75


def test_pit_counts_the_prices_by_tenths_of_the_forecast(scored: dict) -> None:
    # Deciles 92, 94, ..., 100, ..., 108: 100.5 in the 6th tenth, 96.5 the 4th, 107 the 9th, 112
    # the 10th; the older forecast has no deciles.
    assert scored["pit"] == [0, 0, 0, 1, 0, 1, 0, 0, 1, 1]


def test_the_wis_ratio_is_ours_over_the_quantile_walks_at_the_same_levels(scored: dict) -> None:
    widths = [k / 100 for k in LEVELS]
    actual = np.array([100.0 + m for m in MOVES])
    ours = weighted_interval_score(
        np.full(4, 100.0),
        [(100 - k / 10 + 0 * actual, 100 + k / 10 + 0 * actual) for k in LEVELS],
        widths,
        actual,
    )
    walk_bands = quantile_walk(np.array(HISTORY), 4, widths)
    walk = weighted_interval_score(np.full(4, 100.0), walk_bands, widths, actual)
    # The older forecast: its own 80% band against the walk's 80% band from its day.
    old_actual = np.array([96.5])
    (old_walk,) = quantile_walk(PRICES.to_numpy()[:26], 1, [0.8])
    old = weighted_interval_score([100.5], [([98.5], [102.5])], [0.8], old_actual)
    old_w = weighted_interval_score([100.5], [old_walk], [0.8], old_actual)
    expected = (ours.sum() + old.sum()) / (walk.sum() + old_w.sum())
    assert scored["wis_ratio"] == pytest.approx(expected, rel=1e-5)


def test_the_biggest_misses_are_in_half_widths_of_the_95_band(engine: Engine, scored: dict) -> None:
    (miss,) = queries.biggest_misses(engine)  # 3.5 and 7 are inside ± 9.5; the older has no 95%
    assert (miss["ticker"], miss["ds"], miss["actual"]) == ("AAPL", str(DAYS[28].date()), 112.0)
    assert (miss["lower"], miss["upper"]) == (90.5, 109.5)
    assert miss["miss"] == pytest.approx(2.5 / 9.5, abs=1e-3)


def test_the_page_joins_every_ticker_per_method(engine: Engine, scored: dict) -> None:
    rows = queries.calibration_by_method(engine)
    assert [r["level"] for r in rows] == [float(k) for k in LEVELS]
    assert [r["n"] for r in rows] == [5 if k == 80 else 4 for k in LEVELS]
    assert queries.pit_by_method(engine) == [
        {"kind": "live", "method": "calibrated", "pit": scored["pit"]}
    ]
