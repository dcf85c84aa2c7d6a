"""The band's shape: the Student-t's quantiles against known values, the fit's degrees of
freedom, the standardized changes, and nestedness for any history of finite numbers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tickercast.quant import quantiles

WIDTHS = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98])


@pytest.mark.parametrize(
    ("probability", "df", "expected"),
    [  # printed tables of the t distribution
        (0.975, 4.0, 2.776445),
        (0.95, 10.0, 1.812461),
        (0.995, 5.0, 4.032143),
        (0.9, 2.0, 1.885618),
        (0.75, 30.0, 0.682756),
    ],
)
def test_t_quantiles_match_the_tables(probability: float, df: float, expected: float) -> None:
    assert quantiles.t_quantiles(np.array([probability]), df)[0] == pytest.approx(
        expected, abs=2e-5
    )


def test_the_fitted_t_reads_the_tails_of_the_changes() -> None:
    rng = np.random.default_rng(5)
    normal_df, _ = quantiles.fitted_t(rng.normal(size=20_000))
    heavy_df, spread = quantiles.fitted_t(rng.standard_t(5, 20_000))
    assert normal_df > 40  # no excess kurtosis: nearly normal
    assert 4.5 < heavy_df < 8  # t(5) has excess kurtosis 6: df = 4 + 6 / 6 = 5, noisily
    assert spread == pytest.approx(np.sqrt(5 / 3), rel=0.05)  # t(5)'s standard deviation


def test_standardized_changes_divide_by_the_spread_before_each_change() -> None:
    values = np.array([0.0, 1.0, 0.0, 2.0])  # changes 1, -1, 2; mean square 2
    decay = 0.5
    v0 = 2.0
    v1 = decay * v0 + (1 - decay) * 1.0
    v2 = decay * v1 + (1 - decay) * 1.0
    expected = np.array([1 / np.sqrt(v0), -1 / np.sqrt(v1), 2 / np.sqrt(v2)])
    np.testing.assert_allclose(quantiles.standardized_changes(values, decay), expected)
    assert quantiles.standardized_changes(np.array([3.0, 3.0, 3.0]), decay).tolist() == [0, 0]
    assert len(quantiles.standardized_changes(np.array([3.0]), decay)) == 0


def test_empirical_offsets_are_the_quantiles_less_the_median() -> None:
    sample = np.arange(101.0)  # quantile p is 100 p; the median 50
    low, high = quantiles.empirical_offsets(sample, [0.5, 0.9])
    np.testing.assert_allclose(low, [-25.0, -45.0])
    np.testing.assert_allclose(high, [25.0, 45.0])


@pytest.mark.parametrize("widths", [[0.0], [1.0], [0.5, 1.2], [-0.1]])
def test_a_width_outside_zero_to_one_is_refused(widths: list[float]) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        quantiles.offsets(np.ones(10), widths)


finite = st.floats(min_value=-1e100, max_value=1e100, allow_nan=False)


@settings(deadline=None, max_examples=200)
@given(values=st.lists(finite, min_size=0, max_size=300))
def test_every_shape_is_nested_and_holds_zero_for_any_history(values: list[float]) -> None:
    standardized = quantiles.standardized_changes(np.array(values), 0.96)
    assert np.all(np.isfinite(standardized))
    for shape in (quantiles.offsets, quantiles.empirical_offsets):
        low, high = shape(standardized, WIDTHS)
        assert np.all(np.isfinite(low)) and np.all(np.isfinite(high))
        assert np.all(low <= 0) and np.all(high >= 0)
        assert np.all(np.diff(low) <= 0) and np.all(np.diff(high) >= 0)
