"""The odds read from a forecast's quantiles: the rule (log-price interpolation between
adjacent quantiles, bounds beyond the outermost), its properties, and the sentences."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tickercast.web import odds as odds_module
from tickercast.web.odds import (
    amount,
    chance_below,
    odds,
    percent_above,
    percent_below,
    quantiles_at,
)
from tickercast.web.series import PAGE_LEVELS

PROBABILITIES = [
    0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5,
    0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.975, 0.99,
]  # fmt: skip


def row(centre: float = 100.0, spread: float = 1.0) -> dict[str, float]:
    """A forecast row whose level L's edges sit L/10 % (times `spread`) either side."""
    out = {"yhat": centre}
    for level in PAGE_LEVELS:
        out[f"yhat_lower_{level}"] = centre * (1 - spread * level / 1000)
        out[f"yhat_upper_{level}"] = centre * (1 + spread * level / 1000)
    return out


def test_the_forecast_hubs_23_quantiles_from_a_row() -> None:
    quantiles = quantiles_at(row(), PAGE_LEVELS)
    assert [p for p, _ in quantiles] == PROBABILITIES
    assert quantiles[0] == (0.01, pytest.approx(90.2))  # the 98% level's lower edge
    assert quantiles[11] == (0.5, 100.0)
    assert quantiles[-1] == (0.99, pytest.approx(109.8))
    assert quantiles_at({"yhat": 1.0}, PAGE_LEVELS) == []  # an answer without levels


def test_between_two_quantiles_the_chance_follows_log_price() -> None:
    quantiles = [(0.1, 50.0), (0.5, 100.0), (0.9, 200.0)]
    # Half-way in log price (the geometric mean), not in price: half-way in probability.
    assert chance_below(math.sqrt(50 * 100), quantiles) == pytest.approx(0.3)
    assert chance_below(75.0, quantiles) == pytest.approx(0.1 + 0.4 * math.log(1.5) / math.log(2))
    assert chance_below(10.0, quantiles) == 0.1 and chance_below(1e6, quantiles) == 0.9


def test_quantiles_at_or_below_zero_are_read_in_the_value_itself() -> None:
    quantiles = [(0.1, -10.0), (0.5, 0.0), (0.9, 10.0)]
    assert chance_below(5.0, quantiles) == pytest.approx(0.7)


def test_quantiles_out_of_order_are_put_in_order() -> None:
    # Plain Prophet's yhat need not sit inside its 10% band.
    quantiles = [(0.45, 99.0), (0.5, 101.0), (0.55, 100.0)]
    assert chance_below(100.0, quantiles) == pytest.approx(0.5)
    assert chance_below(99.5, quantiles) < chance_below(100.5, quantiles)


def test_beyond_the_outermost_quantiles_the_words_give_a_bound() -> None:
    quantiles = quantiles_at(row(), PAGE_LEVELS)
    assert percent_below(80.0, quantiles) == "under 1%"
    assert percent_above(80.0, quantiles) == "over 99%"
    assert percent_below(120.0, quantiles) == "over 99%"
    assert percent_above(120.0, quantiles) == "under 1%"
    assert percent_below(100.0, quantiles) == "50%"
    assert percent_below(quantiles[0][1], quantiles) == "1%"


increasing = st.lists(
    st.floats(min_value=0.01, max_value=1e6, allow_nan=False), min_size=23, max_size=23, unique=True
).map(sorted)


@settings(max_examples=200, deadline=None)
@given(values=increasing, a=st.floats(1e-3, 2e6), b=st.floats(1e-3, 2e6))
def test_the_chance_is_a_probability_that_never_falls_as_the_price_rises(
    values: list[float], a: float, b: float
) -> None:
    quantiles = list(zip(PROBABILITIES, values, strict=True))
    low, high = sorted((a, b))
    assert 0.01 <= chance_below(low, quantiles) <= chance_below(high, quantiles) <= 0.99


@settings(max_examples=200, deadline=None)
@given(values=increasing)
def test_the_chance_at_each_quantile_is_its_probability(values: list[float]) -> None:
    quantiles = list(zip(PROBABILITIES, values, strict=True))
    for probability, value in quantiles:
        assert chance_below(value, quantiles) == pytest.approx(probability, abs=1e-12)


def test_the_sentences_state_the_odds() -> None:
    # 100 lies between the 30% quantile (104 × 0.96) and the 35% one (104 × 0.97).
    quantiles = quantiles_at(row(centre=104.0, spread=1.0), PAGE_LEVELS)
    found = odds(quantiles, 100.0, "2013-05-28", "USD")
    assert found is not None
    below = 0.30 + 0.05 * math.log(100 / 99.84) / math.log(100.88 / 99.84)
    assert found["above"] == pytest.approx(1 - below, abs=1e-4)
    assert found["fall_10"] == 0.01  # 90 is below the 1% quantile: the bound
    assert (found["price"], found["date"]) == (100.0, "2013-05-28")
    assert found["text"] == [
        "Chance it ends above today's $100.00 on 2013-05-28: 69%.",
        "Chance of a fall of 10% or more: under 1%.",
    ]
    rising = odds(quantiles_at(row(centre=120.0), PAGE_LEVELS), 100.0, "2013-05-28", "USD")
    assert rising is not None
    assert rising["text"][0] == "Chance it ends above today's $100.00 on 2013-05-28: over 99%."


def test_a_chance_near_one_half_cannot_call_the_direction() -> None:
    quantiles = quantiles_at(row(centre=100.2, spread=5.0), PAGE_LEVELS)
    found = odds(quantiles, 100.0, "2013-05-28", "EUR")
    assert found is not None and 0.45 <= found["above"] <= 0.55
    percent = math.floor(found["above"] * 100 + 0.5)
    assert found["text"][0] == (
        f"Chance it ends above today's €100.00 on 2013-05-28: {percent}%: "
        "the forecast cannot call the direction."
    )
    assert found["text"][1] == f"Chance of a fall of 10% or more: {percent_below(90.0, quantiles)}."


def test_an_upload_has_no_currency_and_a_last_value() -> None:
    quantiles = quantiles_at(row(centre=130.0, spread=5.0), PAGE_LEVELS)
    found = odds(quantiles, 100.0, "2013-05-28", "units of the file", upload=True)
    assert found is not None
    assert found["text"][0].startswith("Chance it ends above the last value (100.00) on")
    assert odds(quantiles, 0.0, "2013-05-28", "USD") is None  # no fall in percent from 0
    assert odds([], 100.0, "2013-05-28", "USD") is None


def test_amounts_are_written_as_the_page_writes_them() -> None:
    assert amount(1234.5, "USD") == "$1,234.50"
    assert amount(56.14, "CAD") == "56.14 CAD"
    assert amount(56.14, "GBp") == "56.14"  # pence: no ISO code


def test_an_answer_without_levels_gives_its_bands_three_quantiles() -> None:
    row = {"yhat": 100.0, "yhat_lower": 80.0, "yhat_upper": 125.0}
    found = odds_module.row_quantiles(row, (50, 95), 0.8)
    assert found == [(0.1, 80.0), (0.5, 100.0), (0.9, 125.0)]
    assert odds_module.chance_above(100.0, found) == pytest.approx(0.5)
    between = math.sqrt(100.0 * 125.0)  # halfway from the median to the upper edge, in log
    assert odds_module.chance_above(between, found) == pytest.approx(0.3)
    assert odds_module.chance_above(500.0, found) == pytest.approx(0.1)  # beyond: the bound
    lacking = odds_module.row_quantiles({"yhat": 1.0}, (50,), 0.8)
    assert lacking == [] and odds_module.chance_above(100.0, lacking) is None


def test_a_row_with_levels_uses_them_not_its_band() -> None:
    row = {"yhat": 100.0, "yhat_lower": 80.0, "yhat_upper": 125.0}
    row |= {"yhat_lower_50": 95.0, "yhat_upper_50": 105.0}
    assert odds_module.row_quantiles(row, (50,), 0.8) == [(0.25, 95.0), (0.5, 100.0), (0.75, 105.0)]
