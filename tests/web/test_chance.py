"""The chance of ending higher: linear in log price between adjacent quantiles, the centre the
median, the outermost levels beyond the outermost quantiles."""

from __future__ import annotations

import math

import pytest

from tickercast.web.chance import band_quantiles, chance_below, chance_higher

ROW = {"yhat": 100.0, "yhat_lower": 80.0, "yhat_upper": 125.0}


def test_the_centre_is_the_median() -> None:
    assert chance_higher(100.0, ROW, 0.8) == pytest.approx(0.5)


def test_between_quantiles_it_is_linear_in_log_price() -> None:
    between = math.sqrt(100.0 * 125.0)  # halfway from the median to the upper edge in log
    assert chance_below(between, band_quantiles(ROW, 0.8)) == pytest.approx(0.7)
    assert chance_higher(between, ROW, 0.8) == pytest.approx(0.3)
    # not halfway in price: 112.5 is past the log midpoint (111.8), so a little more below it
    assert chance_below(112.5, band_quantiles(ROW, 0.8)) > 0.7


def test_beyond_the_band_it_is_the_bands_level() -> None:
    assert chance_higher(50.0, ROW, 0.8) == pytest.approx(0.9)
    assert chance_higher(500.0, ROW, 0.8) == pytest.approx(0.1)


def test_stated_levels_add_quantiles() -> None:
    row = {**ROW, "yhat_lower_90": 70.0, "yhat_upper_90": 140.0}
    assert band_quantiles(row, 0.8) == {0.05: 70.0, 0.1: 80.0, 0.5: 100.0, 0.9: 125.0, 0.95: 140.0}
    assert chance_higher(60.0, row, 0.8) == pytest.approx(0.95)
    assert chance_higher(75.0, row, 0.8) == pytest.approx(
        1 - (0.05 + 0.05 * math.log(75 / 70) / math.log(80 / 70)), abs=1e-4
    )


def test_no_log_no_chance() -> None:
    assert chance_higher(-1.0, ROW, 0.8) is None
    assert chance_higher(100.0, {**ROW, "yhat_lower": -5.0}, 0.8) is None
    assert chance_below(10.0, {}) is None
