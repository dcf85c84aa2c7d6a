"""The volatility estimates behind the bands: by hand, on series of known volatility, and how
fast each follows a change of regime."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tickercast.quant import volatility
from tickercast.quant.walk import change_spread


def test_ewma_by_hand() -> None:
    # changes 1, 2: start from their mean square 2.5, then 0.5 * 2.5 + 0.5 * 1, then
    # 0.5 * that + 0.5 * 4.
    values = np.array([0.0, 1.0, math.nan, 3.0])
    assert volatility.ewma(values, 0.5) == pytest.approx(math.sqrt(0.5 * 1.75 + 2))
    assert volatility.ewma(np.array([5.0]), 0.9) == 0.0
    with pytest.raises(ValueError, match="decay"):
        volatility.ewma(values, 1.0)


def test_horizon_volatility_moves_from_the_current_towards_the_long_run() -> None:
    steps = np.array([1.0, 2.0, 100.0])
    flat = volatility.horizon_volatility(0.03, 0.01, steps)
    assert flat.tolist() == [0.03, 0.03, 0.03]
    moving = volatility.horizon_volatility(0.03, 0.01, steps, reversion=0.5)
    # step 1: the current variance; step 2: the mean of 9e-4 and 1e-4 + 0.5 * 8e-4
    assert moving[:2] == pytest.approx([0.03, math.sqrt((9e-4 + 5e-4) / 2)])
    assert 0.01 < moving[2] < 0.011  # after 100 steps, nearly the long run


@given(
    sigma=st.floats(min_value=1e-4, max_value=0.2),
    signs=st.lists(st.booleans(), min_size=2, max_size=400),
    level=st.floats(min_value=-5.0, max_value=10.0),
    decay=st.floats(min_value=0.5, max_value=0.99),
)
def test_changes_of_known_size_give_that_volatility(sigma, signs, level, decay) -> None:
    """Every one-step change is ±sigma: the weighted mean square is sigma² whatever its weights,
    so the estimate is sigma, and so is the spread it expects at every step."""
    values = level + np.cumsum([0.0] + [sigma if s else -sigma for s in signs])
    current = volatility.ewma(values, decay)
    assert current == pytest.approx(sigma, rel=1e-9)
    steps = np.arange(1, 21, dtype=float)
    ahead = volatility.horizon_volatility(current, sigma, steps, reversion=0.9)
    np.testing.assert_allclose(ahead, sigma, rtol=1e-9)


def test_gaussian_changes_of_known_volatility() -> None:
    rng = np.random.default_rng(7)
    values = np.cumsum(rng.normal(0.0, 0.02, 5000))
    assert change_spread(values, 250) == pytest.approx(0.02, rel=0.15)
    # the exponentially weighted estimate rests on about (1 + 0.96) / (1 - 0.96) = 49 changes
    assert volatility.ewma(values, 0.96) == pytest.approx(0.02, rel=0.35)


def test_the_weighted_estimate_follows_a_storm_within_weeks() -> None:
    """A calm year (1% a day), then 30 stormy sessions (3% a day): the 250-session rule still
    says under 1.5%, the weighted estimate (decay 0.96: 71% of its weight on those 30) already
    over 2%."""
    rng = np.random.default_rng(11)
    moves = np.concatenate([rng.normal(0, 0.01, 250), rng.normal(0, 0.03, 30)])
    values = np.cumsum(moves)
    assert change_spread(values, 250) < 0.015
    assert volatility.ewma(values, 0.96) > 0.02


def test_the_path_ends_at_the_estimate_and_follows_each_change() -> None:
    values = np.array([0.0, 1.0, math.nan, 3.0, 3.0])  # changes 1, 2, 0; mean square 5/3
    path = volatility.ewma_path(values, 0.5)
    first = 0.5 * 5 / 3 + 0.5
    np.testing.assert_allclose(path**2, [first, 0.5 * first + 2, 0.25 * first + 1])
    assert path[-1] == volatility.ewma(values, 0.5)
    assert len(volatility.ewma_path(np.array([1.0]), 0.9)) == 0
