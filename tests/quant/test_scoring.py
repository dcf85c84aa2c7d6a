"""The scoring module: each score on cases worked by hand, and the properties that pin them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tickercast.quant import scoring

prices = st.floats(min_value=0.01, max_value=1e4, allow_nan=False)


@pytest.mark.parametrize(
    ("lower", "upper", "actual", "width", "expected"),
    [
        (9.0, 11.0, 10.0, 0.8, 2.0),  # inside: the width alone
        (9.0, 11.0, 11.0, 0.8, 2.0),  # on the edge counts as inside
        (9.0, 11.0, 12.0, 0.8, 2.0 + 10.0 * 1.0),  # 1 above, 2/0.2 = 10 per unit
        (9.0, 11.0, 8.5, 0.8, 2.0 + 10.0 * 0.5),  # 0.5 below
        (9.0, 11.0, 12.0, 0.5, 2.0 + 4.0 * 1.0),  # α = 0.5: 4 per unit
    ],
)
def test_interval_score_by_hand(lower, upper, actual, width, expected):
    assert scoring.interval_score(lower, upper, actual, width) == pytest.approx(expected)


@pytest.mark.parametrize("width", [0.0, 1.0, -0.1, 1.5])
def test_interval_score_refuses_a_width_outside_zero_to_one(width):
    with pytest.raises(ValueError, match="interval width"):
        scoring.interval_score(1.0, 2.0, 1.5, width)


def test_errors_band_and_mase_on_a_small_record():
    forecast = np.array([101.0, 104.0, 99.0])
    actual = np.array([100.0, 102.0, 103.0])
    last = np.array([98.0, 98.0, 98.0])
    errors = scoring.absolute_error(forecast, actual)
    walk = scoring.random_walk_error(last, actual)
    assert errors.tolist() == [1.0, 2.0, 4.0]
    assert walk.tolist() == [2.0, 4.0, 5.0]
    assert scoring.mase(errors, walk) == pytest.approx(7 / 11)
    inside = scoring.inside_band(forecast - 1.5, forecast + 1.5, actual)
    assert inside.tolist() == [True, False, False]


def test_unknown_prices_are_neither_errors_nor_inside():
    actual = np.array([1.0, math.nan])
    assert scoring.known(actual).tolist() == [True, False]
    assert not scoring.inside_band([0.0, 0.0], [2.0, 2.0], actual)[1]
    assert math.isnan(scoring.absolute_error([1.0, 1.0], actual)[1])


@pytest.mark.parametrize(("errors", "walk"), [([], []), ([1.0], [0.0])])
def test_mase_is_nan_when_the_random_walk_gives_nothing_to_divide_by(errors, walk):
    assert math.isnan(scoring.mase(errors, walk))


@given(last=prices, actual=st.lists(prices, min_size=1, max_size=20))
def test_the_random_walk_scores_exactly_one(last, actual):
    walk = scoring.random_walk_error(last, actual)
    if walk.mean() > 0:
        assert scoring.mase(walk, walk) == pytest.approx(1.0)


@given(
    centre=prices,
    half=st.floats(min_value=0.0, max_value=100.0),
    actual=prices,
    width=st.floats(min_value=0.05, max_value=0.95),
)
def test_interval_score_is_the_width_inside_and_grows_outside(centre, half, actual, width):
    lower, upper = centre - half, centre + half
    score = float(scoring.interval_score(lower, upper, actual, width))
    if lower <= actual <= upper:
        assert score == pytest.approx(upper - lower)
    else:
        assert score > upper - lower
        # widening the band to reach the price never scores worse than missing it
        reach = max(upper, actual) - min(lower, actual)
        assert reach <= score + 1e-9 * max(1.0, score)


@given(
    actual=prices,
    width=st.floats(min_value=0.05, max_value=0.95),
    shift=st.floats(min_value=-50.0, max_value=50.0),
)
def test_interval_score_is_lowest_for_a_band_of_zero_width_at_the_price(actual, width, shift):
    assert scoring.interval_score(actual, actual, actual, width) == 0.0
    assert scoring.interval_score(actual + shift, actual + shift, actual, width) >= 0.0


def test_interval_score_ratio_by_hand():
    ours = scoring.interval_score([9.0, 9.0], [11.0, 11.0], [10.0, 12.0], 0.8)  # 2, 12
    walk = scoring.interval_score([8.0, 8.0], [12.0, 12.0], [10.0, 12.0], 0.8)  # 4, 4
    assert scoring.interval_score_ratio(ours, walk) == pytest.approx(7 / 4)
    assert math.isnan(scoring.interval_score_ratio([1.0], [0.0]))
    assert math.isnan(scoring.interval_score_ratio([], []))


def test_trailing_volatility_is_the_spread_of_the_last_log_changes():
    # log changes: +0.1, -0.1, +0.1, then (the last 2 sessions) +0.2, -0.2
    logs = np.cumsum([0.0, 0.1, -0.1, 0.1, 0.2, -0.2])
    prices = np.exp(logs)
    assert scoring.trailing_volatility(prices, sessions=2) == pytest.approx(
        np.std([0.2, -0.2], ddof=1)
    )
    with_gap = np.insert(prices, 4, math.nan)  # an unknown price is skipped
    assert scoring.trailing_volatility(with_gap, sessions=2) == pytest.approx(0.4 / math.sqrt(2))
    assert math.isnan(scoring.trailing_volatility([1.0, 2.0]))  # one change says nothing
    assert math.isnan(scoring.trailing_volatility([1.0, -2.0, 3.0]))


def test_regimes_and_their_coverage_by_hand():
    vols = [0.5, 0.1, 0.9, 0.3, math.nan, 0.7, 0.2, 0.8, 0.4, 0.6]
    regime = scoring.regimes(vols)
    assert regime.tolist() == [1, 0, 2, 0, -1, 2, 0, 2, 1, 1]
    inside = [True, True, False, False, True, True, True, True, False, False]
    got = scoring.regime_coverage(inside, regime)
    assert got == {"calm": pytest.approx(2 / 3), "middle": pytest.approx(1 / 3), "stormy": 2 / 3}


@given(st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=3, max_size=200))
def test_regimes_split_the_origins_in_thirds_in_order_of_volatility(vols):
    regime = scoring.regimes(vols)
    order = np.argsort(vols, kind="stable")
    assert np.all(np.diff(regime[order]) >= 0)  # a stormier origin is never in a calmer third
    counts = np.bincount(regime, minlength=3)
    if len(set(vols)) == len(vols):  # no ties: each third holds a third, give or take one
        assert np.all(np.abs(counts - len(vols) / 3) <= 1)
