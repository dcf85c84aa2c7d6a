"""Scores over several levels: worked by hand, and the properties that pin them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tickercast.quant import levels, walk


def test_wis_by_hand() -> None:
    # Median 10, the 50% band [9, 11], the 80% band [8, 12]; the price 12.5.
    # 50%: width 2 + 2/0.5 * 1.5 = 8, weighted by 0.25; 80%: 4 + 2/0.2 * 0.5 = 9, by 0.1.
    # (0.5 * 2.5 + 0.25 * 8 + 0.1 * 9) / 2.5 = 4.15 / 2.5.
    score = levels.weighted_interval_score(10.0, [(9.0, 11.0), (8.0, 12.0)], [0.5, 0.8], 12.5)
    assert float(score) == pytest.approx(4.15 / 2.5)


def test_wis_of_one_level_is_a_weighted_mean_of_the_absolute_error_and_interval_score() -> None:
    score = levels.weighted_interval_score([5.0], [([4.0], [6.0])], [0.5], [5.0])
    assert score.tolist() == pytest.approx([0.25 * 2 / 1.5])
    with pytest.raises(ValueError, match="2 bands for 1 widths"):
        levels.weighted_interval_score(5.0, [(4.0, 6.0), (3.0, 7.0)], [0.5], 5.0)


def test_bootstrap_interval_holds_the_share_and_is_repeatable() -> None:
    rng = np.random.default_rng(1)
    inside = (rng.random((400, 4)) < 0.8).astype(float)
    low, high = levels.bootstrap_interval(inside)
    assert low < inside.mean() < high
    assert 0.02 < high - low < 0.08  # about 4 standard errors of 1,600 draws (0.01 each)
    assert levels.bootstrap_interval(inside) == (low, high)
    same = np.ones((50, 3))
    assert levels.bootstrap_interval(same) == (1.0, 1.0)
    assert all(math.isnan(x) for x in levels.bootstrap_interval(np.full((3, 2), np.nan)))


def test_whole_origins_move_together() -> None:
    """Origins whose steps all hit or all miss: resampling origins (not points) sees 20
    origins, so its interval is as wide as 20 draws' (about ±0.22), not 400's."""
    inside = np.repeat((np.arange(20) % 2).astype(float)[:, None], 20, axis=1)
    low, high = levels.bootstrap_interval(inside)
    assert high - low > 0.3


def test_pit_counts_by_hand() -> None:
    deciles = np.arange(1.0, 10.0)[:, None] * np.ones((1, 4))  # quantiles 1, 2, ..., 9
    assert levels.pit_counts([0.5, 1.0, 9.5, np.nan], deciles) == [1, 1, 0, 0, 0, 0, 0, 0, 0, 1]


def test_decile_quantiles_from_the_levels() -> None:
    bands = {float(level): (np.array([-level]), np.array([level])) for level in (20, 40, 60, 80)}
    q = levels.decile_quantiles(np.array([0.0]), bands)
    assert q[:, 0].tolist() == [-80, -60, -40, -20, 0, 20, 40, 60, 80]
    with pytest.raises(ValueError, match="missing"):
        levels.decile_quantiles(np.array([0.0]), {80.0: bands[80.0]})


@given(st.lists(st.floats(min_value=-1e6, max_value=1e6), min_size=1, max_size=200))
def test_uniform_draws_fill_the_pit_bins_and_every_value_counts(values: list[float]) -> None:
    deciles = np.sort(np.random.default_rng(0).normal(size=9))[:, None] * np.ones(len(values))
    assert sum(levels.pit_counts(values, deciles)) == len(values)


def test_christoffersen_by_hand() -> None:
    # 10 forecasts of an 80% band, 2 misses, apart: the miss rate is the nominal one (lr_uc 0).
    hits = [True] * 4 + [False] + [True] * 4 + [False]
    result = levels.christoffersen(hits, 0.8)
    assert result["lr_uc"] == pytest.approx(0.0, abs=1e-12)
    # Transitions: hit->hit 6, hit->miss 2, miss->hit 1, miss->miss 0; pi0 = 2/8, pi1 = 0,
    # pi = 2/9.
    markov = 6 * math.log(6 / 8) + 2 * math.log(2 / 8)
    pooled = 7 * math.log(7 / 9) + 2 * math.log(2 / 9)
    assert result["lr_ind"] == pytest.approx(-2 * (pooled - markov))
    assert result["p_value"] == pytest.approx(math.exp(-result["lr_cc"] / 2))


def test_clustered_misses_fail_christoffersen_where_independent_ones_pass() -> None:
    independent = np.random.default_rng(2).random(500) > 0.1
    clustered = [True] * 450 + [False] * 50
    assert levels.christoffersen(independent, 0.9)["p_value"] > 0.2
    assert levels.christoffersen(clustered, 0.9)["p_value"] < 1e-6
    assert levels.christoffersen([True] * 100, 0.8)["p_value"] < 1e-6  # never missing an 80%
    assert math.isnan(levels.christoffersen([True], 0.8)["p_value"])


def test_the_quantile_walk_is_symmetric_around_the_last_value_and_nested() -> None:
    train = np.array([10.0, 11.0, 10.5, 12.0, np.nan, 11.0, 11.5])
    (lo50, up50), (lo90, up90) = walk.quantile_walk(train, 4, [0.5, 0.9])
    np.testing.assert_allclose(up50 - 11.5, 11.5 - lo50)
    assert np.all(lo90 <= lo50) and np.all(up50 <= up90)
    assert np.all(np.diff(up90) > 0)
    # changes 1, -0.5, 1.5, -1, 0.5 and their negatives: the 95% quantile of the ten
    both = np.array([1, -0.5, 1.5, -1, 0.5, -1, 0.5, -1.5, 1, -0.5])
    assert up90[0] - 11.5 == pytest.approx(np.quantile(both, 0.95))
