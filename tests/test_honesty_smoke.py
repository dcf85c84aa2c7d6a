"""The forecast-quality benchmark stays runnable: its origins, its peers, its scores and tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from bench import honesty, honesty_levels, methods  # noqa: F401  (methods imports cleanly)
from bench.honesty import (
    CALIBRATED,
    DRIFT,
    PROPHET,
    WALK,
    YEAR_BAND,
    Outcome,
    Prices,
    Table,
    origins,
)

from tickercast.model.backtesting import Forecast

DAYS = pd.bdate_range("2015-01-02", periods=200)


def prices(seed: int = 1) -> Prices:
    rng = np.random.default_rng(seed)
    return Prices("X", pd.DatetimeIndex(DAYS), 50 * np.exp(np.cumsum(rng.normal(0, 0.01, 200))))


def test_origins_every_few_sessions_after_the_history_calibrated_needs() -> None:
    assert origins(200, every=5) == list(range(120, 181, 5))
    assert origins(139, every=5) == []  # 120 of training and 20 to score do not fit


def test_one_origin_gives_every_method_twenty_steps() -> None:
    p = prices()
    out = honesty.run_origin((p, 150, False))
    assert out.last == p.y[149] and np.array_equal(out.actual, p.y[150:170])
    assert set(out.forecasts) == {CALIBRATED, honesty.NORMAL_BAND, YEAR_BAND, WALK, DRIFT}
    for f in out.forecasts.values():
        assert len(f.yhat) == 20 and np.all(f.lower <= f.yhat) and np.all(f.yhat <= f.upper)
    # one fit, two bands: the same centre
    np.testing.assert_array_equal(out.forecasts[CALIBRATED].yhat, out.forecasts[YEAR_BAND].yhat)
    assert out.seconds[CALIBRATED] > 0
    assert out.year == p.ds[150].year
    assert set(out.levels) == set(honesty_levels.BANDS)
    for band in out.levels.values():
        assert band.lower.shape == band.upper.shape == (len(honesty_levels.LEVELS), 20)
        # nested: each wider level holds the narrower one, around the median
        assert np.all(np.diff(band.lower, axis=0) <= 0) and np.all(np.diff(band.upper, axis=0) >= 0)
        assert np.all(band.lower[0] <= band.median) and np.all(band.median <= band.upper[0])
    # the 80% level is the calibrated band asked at 80%
    calibrated = out.levels[honesty_levels.CALIBRATED]
    at_80 = honesty_levels.LEVELS.index(80.0)
    np.testing.assert_allclose(calibrated.lower[at_80], out.forecasts[CALIBRATED].lower)
    np.testing.assert_allclose(calibrated.upper[at_80], out.forecasts[CALIBRATED].upper)


@pytest.mark.parametrize("name", ["AutoETS", "AutoARIMA", "Theta"])
def test_each_statsmodels_peer_forecasts_a_band_around_its_centre(name: str) -> None:
    p = prices(2)
    f = honesty.PEER_METHODS[name](p.ds[:150], p.y[:150], p.ds[150:170])
    assert len(f.yhat) == 20 and np.all(np.isfinite(f.yhat))
    assert np.all(f.lower < f.yhat) and np.all(f.yhat < f.upper)
    assert abs(f.yhat[0] / p.y[149] - 1) < 0.05  # near the last price, as prices are


def outcome(origin: int, actual: np.ndarray, last: float, trailing: float) -> Outcome:
    out = Outcome("X", origin, last, actual, trailing)
    exact = Forecast(actual, actual - 1, actual + 1)
    walk = Forecast(np.full(20, last), np.full(20, last) - 2, np.full(20, last) + 2)
    for method in (CALIBRATED, honesty.NORMAL_BAND, YEAR_BAND, *honesty.PEERS, DRIFT):
        out.forecasts[method] = exact
        out.seconds[method] = 0.5
    out.forecasts[WALK], out.seconds[WALK] = walk, 0.0
    out.year = 2008 + origin % 2
    # every band's levels: the level L's band is +-L/100 around the actual value (all hit)
    spread = np.array(honesty_levels.LEVELS)[:, None] / 100
    for band in honesty_levels.BANDS:
        out.levels[band] = honesty_levels.LevelForecast(actual, actual - spread, actual + spread)
    return out


def test_scores_and_tables_of_a_perfect_forecast() -> None:
    outcomes = [
        outcome(i, 100 + np.arange(1.0, 21.0) * (1 + i % 3), 100.0, 0.01 * (i % 3))
        for i in range(30)
    ]
    table = Table(outcomes)
    assert table.median_mase(CALIBRATED, 20) == 0 and table.median_mase(WALK, 5) == 1
    assert table.inside(CALIBRATED).all()
    regimes = table.regime_coverage(WALK)
    # the walk's band (±2 around 100) holds only steps 1-2 of the calmest origins' rises
    assert regimes["calm"] == pytest.approx(2 / 20) and regimes["stormy"] == 0
    text = honesty.report("embedded", outcomes)
    assert "| calibrated | 100.0% [100.0%, 100.0%] |" in text
    assert "| random walk | 1.00 | 1.00 | 1.00 | 1.00 |" in text
    assert f"| {PROPHET} | 0.00 | 0.00 | 0.00 | 0.00 | 100.0% |" in text
    assert "| X | 30 | 0.00 | 0.00 | 0.00 | 0.00 | 100% |" in text


def test_level_tables_of_a_forecast_that_always_hits() -> None:
    outcomes = [outcome(i, 100 + np.arange(1.0, 21.0), 100.0, 0.01 * (i % 3)) for i in range(30)]
    text = honesty.report("embedded", outcomes)
    # every level holds everything: its largest miss is 100 - 10 = 90 points, at the 10% level
    assert "| **calibrated, pooled** | 100.0 [100.0, 100.0] |" in text
    assert "| calibrated, calm | 100.0 |" in text and "| 2008 (15) | 100.0 |" in text
    assert "90.0 at 10% (100.0-100.0) |" in text
    # no miss at all: Christoffersen's test rejects the 50% band (misses too rare)
    assert "| calibrated, X | 100.0, 41.6, 0.00 |" in text
    # the same score for every band: every ratio is 1
    assert "| calibrated | random walk, past changes' quantiles | 1.000 [1.000, 1.000] |" in text


def test_chi_squared_survival_by_hand() -> None:
    import math

    assert honesty_levels.chi2_survival(0.0, 2) == 1.0
    assert honesty_levels.chi2_survival(3.0, 2) == pytest.approx(math.exp(-1.5))
    # 4 degrees of freedom: exp(-x/2) * (1 + x/2)
    assert honesty_levels.chi2_survival(5.0, 4) == pytest.approx(math.exp(-2.5) * 3.5)
