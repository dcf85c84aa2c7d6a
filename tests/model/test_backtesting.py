"""Backtest scores: metrics against values worked out by hand, the baselines, the origins, and
properties every score must have."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tickercast.model import backtesting
from tickercast.model.backtesting import Forecast, metrics, origins, random_walk


def test_metrics_worked_out_by_hand() -> None:
    # errors 2 and 5; actual 10 inside [11, 13]? no; 20 inside [10, 25]? yes;
    # forecast changes from the last value 11: +1, +4; actual changes -1, +9.
    got = metrics(
        yhat=np.array([12.0, 15.0]),
        lower=np.array([11.0, 10.0]),
        upper=np.array([13.0, 25.0]),
        actual=np.array([10.0, 20.0]),
        last=np.array([11.0, 11.0]),
        random_walk_mae=7.0,
        interval_width=0.8,
        random_walk_interval_score=27.0,
    )
    assert got == {
        "mae": 3.5,  # (2 + 5) / 2
        "rmse": 3.80789,  # sqrt((4 + 25) / 2), 6 significant digits
        "mape": 22.5,  # 100 * (2/10 + 5/20) / 2
        "smape": 23.3766,  # 100 * (4/22 + 10/35) / 2
        "relative_mae": 0.5,  # 3.5 / 7
        "coverage": 0.5,
        "band_width": 8.5,  # (2 + 15) / 2
        "direction_hit_rate": 0.5,  # up/down missed, up/up hit
        "count": 2,
        # width 2 plus 2/0.2 times 1 below the band; width 15, inside: (12 + 15) / 2
        "interval_score": 13.5,
        "interval_score_ratio": 0.5,  # 13.5 / 27
    }


def test_missing_actuals_are_not_scored_and_what_cannot_be_computed_is_null() -> None:
    got = metrics(
        yhat=np.array([0.0, 5.0]),
        lower=np.array([-1.0, 4.0]),
        upper=np.array([1.0, 6.0]),
        actual=np.array([0.0, math.nan]),
        last=np.array([0.0, 0.0]),
        random_walk_mae=0.0,
        interval_width=0.8,
        random_walk_interval_score=0.0,
    )
    assert got["count"] == 1 and got["mae"] == 0.0
    assert got["mape"] is None  # the only actual is 0
    assert got["relative_mae"] is None  # the random walk made no error
    assert got["direction_hit_rate"] is None  # the forecast predicted no change
    assert got["smape"] == 0.0
    assert got["interval_score"] == 2.0  # inside: the width alone
    assert got["interval_score_ratio"] is None  # the random walk's band scored 0


def test_a_score_that_overflows_a_double_is_null_not_an_error() -> None:
    """Prices near 1e-308 with errors near 1: the percentage error is past any double."""
    got = metrics(
        yhat=np.array([1.0, 2.0]),
        lower=np.array([0.5, 1.0]),
        upper=np.array([1.5, 3.0]),
        actual=np.array([1e-308, 2e-308]),
        last=np.array([1.0, 1.0]),
        random_walk_mae=1.0,
        interval_width=0.8,
        random_walk_interval_score=1.0,
    )
    assert got["mape"] is None and got["count"] == 2
    assert got["mae"] == pytest.approx(1.5) and got["coverage"] == 0.0


def test_random_walk_and_drift_by_hand() -> None:
    train = np.array([1.0, 3.0, math.nan, 2.0, 6.0])  # changes of the seen values: 2, -1, 4
    sd = math.sqrt(((2 - 5 / 3) ** 2 + (-1 - 5 / 3) ** 2 + (4 - 5 / 3) ** 2) / 2)
    z = 1.2815515655446004  # 80%
    walk = random_walk(train, 4, 0.8)
    np.testing.assert_allclose(walk.yhat, [6, 6, 6, 6])
    np.testing.assert_allclose(walk.upper - walk.yhat, z * sd * np.sqrt([1, 2, 3, 4]))
    drift = random_walk(train, 2, 0.8, drift=True)
    np.testing.assert_allclose(drift.yhat, [6 + 5 / 3, 6 + 10 / 3])
    np.testing.assert_allclose(drift.yhat - drift.lower, z * sd * np.sqrt([1, 2]))


def test_origins_spread_from_the_least_training_to_the_last_row() -> None:
    assert origins(100, 20, 5, 3) == [3, 22, 42, 61, 80]
    assert origins(100, 20, 1, 3) == [80]
    assert origins(24, 20, 2, 3) == [3, 4]
    with pytest.raises(ValueError, match="too few"):
        origins(24, 20, 3, 3)


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@settings(deadline=None, max_examples=50)
@given(st.lists(finite, min_size=1, max_size=30), finite)
def test_a_perfect_forecast_scores_no_error_and_full_coverage(
    values: list[float], last: float
) -> None:
    a = np.array(values)
    got = metrics(a, a, a, a, np.full(len(a), last), 1.0, 0.8, 1.0)
    assert got["mae"] == got["rmse"] == got["smape"] == got["relative_mae"] == 0
    assert got["interval_score"] == got["interval_score_ratio"] == 0
    assert got["coverage"] == 1
    assert got["direction_hit_rate"] in (None, 1.0)


@settings(deadline=None, max_examples=25)
@given(st.lists(st.floats(1, 1000), min_size=30, max_size=60), st.integers(1, 5))
def test_the_random_walk_against_itself_scores_one(values: list[float], cutoffs: int) -> None:
    y = np.array(values)
    n, horizon = len(y), 5
    ends = origins(n, horizon, cutoffs, 3)
    walk = [random_walk(y[:e], horizon, 0.8) for e in ends]
    ds = pd.DatetimeIndex(pd.date_range("2020-01-01", periods=n, freq="B"))
    report = backtesting.report("prophet", ds, y, ends, horizon, "B", 0.8, walk)
    rw = report["scores"]["random_walk"]
    moved = any(y[e + j] != y[e - 1] for e in ends for j in range(horizon))
    if moved:
        assert rw["overall"]["relative_mae"] == 1
        assert report["scores"]["prophet"]["overall"]["relative_mae"] == 1
    if rw["overall"]["interval_score"]:
        assert rw["overall"]["interval_score_ratio"] == 1
        assert report["scores"]["prophet"]["overall"]["interval_score_ratio"] == 1
    assert rw["overall"]["direction_hit_rate"] is None


def test_report_shape_folds_and_verdict() -> None:
    n, horizon = 40, 3
    ds = pd.DatetimeIndex(pd.date_range("2021-03-01", periods=n, freq="B"))
    y = 100 + np.arange(n, dtype=float)  # a straight line: drift is perfect, the walk is not
    ends = origins(n, horizon, 2, 10)
    perfect = [Forecast(y[e : e + horizon], y[e : e + horizon], y[e : e + horizon]) for e in ends]
    report = backtesting.report("calibrated", ds, y, ends, horizon, "XNYS", 0.8, perfect)
    assert list(report) == ["method", "horizon", "interval_width", "folds", "scores", "verdict"]
    assert report["folds"][-1] == {
        "train_end": "2021-04-20",
        "test_start": "2021-04-21",
        "test_end": "2021-04-23",
    }
    assert list(report["scores"]) == ["calibrated", "random_walk", "random_walk_drift"]
    cal = report["scores"]["calibrated"]
    assert len(cal["by_step"]) == horizon
    assert [s["count"] for s in cal["by_step"]] == [2, 2, 2]
    assert cal["overall"]["relative_mae"] == 0
    assert report["scores"]["random_walk_drift"]["overall"]["mae"] == 0
    # The walk misses by 1, 2, 3 at steps 1, 2, 3; its band, 0 wide (every change is 1), misses
    # by as much, scoring 2/0.2 times it; a perfect forecast with no band scores 0.
    walk_steps = report["scores"]["random_walk"]["by_step"]
    assert [s["mae"] for s in walk_steps] == [1, 2, 3]
    assert [s["interval_score"] for s in walk_steps] == [10, 20, 30]
    assert [s["interval_score_ratio"] for s in cal["by_step"]] == [0, 0, 0]
    assert report["verdict"] == (
        "Over 2 past 3-trading-day periods, the calibrated forecast's errors were 0.00 times the "
        "random walk's (MASE), and its 80% band held 100% of actual values."
    )
