"""The sentences that keep the page honest, and the backtest's wording: pure functions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.support import fakes
from tickercast.model import calibrated
from tickercast.quant import volatility
from tickercast.web import backtest, notes


def rows(yhat: float, lower: float, upper: float, n: int = 3, weekly: float = 0.0) -> list[dict]:
    return [
        {"yhat": yhat, "yhat_lower": lower, "yhat_upper": upper, "weekly": weekly * (-1) ** i}
        for i in range(n)
    ]


@pytest.mark.parametrize(
    ("dates", "freq", "shown"),
    [
        # Trading sessions: no weekly cycle; under two years: no yearly line.
        (fakes.sessions(504), "XNYS", ["trend"]),
        (fakes.sessions(600), "XNYS", ["trend", "yearly"]),
        # Weekdays only, whatever the step the model was told: still trading days.
        (fakes.sessions(100), None, ["trend"]),
        # Calendar days with weekends: a weekly cycle can mean something.
        (pd.date_range("2020-01-01", periods=100), None, ["trend", "weekly"]),
        (pd.date_range("2020-01-01", periods=800), "D", ["trend", "weekly", "yearly"]),
    ],
)
def test_components_that_mean_something(dates, freq, shown) -> None:
    result = notes.components(pd.DatetimeIndex(dates), freq, rows(1, 0, 2), "USD")
    assert result["shown"] == shown
    assert sorted(result["hidden"]) == sorted({"trend", "weekly", "yearly"} - set(shown))
    assert result["unit"] == "USD"


def test_hidden_components_say_why_and_how_much() -> None:
    dates = pd.DatetimeIndex(fakes.sessions(252))
    hidden = notes.components(dates, "XNYS", rows(1, 0, 2, weekly=0.125), "USD")["hidden"]
    assert hidden["weekly"] == (
        "No weekly cycle: on trading-day prices a day-of-week effect is noise, not a cycle "
        "(here it moves the forecast by at most 0.12 USD)."
    )
    span = (dates[-1] - dates[0]).days
    assert hidden["yearly"] == (
        f"No yearly cycle: it takes two years of history to see one; this has {span} days."
    )


def test_a_forecast_starting_from_today_needs_no_note() -> None:
    assert notes.forecast_notes(100.0, rows(100.2, 98.0, 102.5), 500) == []


def test_a_jump_away_from_the_last_price_is_said() -> None:
    # The AAPL example: last close 56.14, first step 67.49 [63.97, 71.33].
    (note,) = notes.forecast_notes(56.14, rows(67.49, 63.97, 71.33), 1260)
    assert note == (
        "The forecast for the first trading day (67.49) is 20% above the last price (56.14), "
        "outside its own band: it starts from the model's smoothed fit, not from the last price."
    )
    (below,) = notes.forecast_notes(175.2, rows(172.1, 170.3, 173.9), 63, "day")
    assert below.startswith("The forecast for the first day (172.10) is 2% below the last price")


def test_a_band_of_no_width_is_called_unknown() -> None:
    (note,) = notes.forecast_notes(10.0, rows(10.0, 10.0, 10.0), 3)
    assert note == (
        "The band has almost no width: 3 prices are too few to measure the uncertainty, "
        "so it is unknown, not zero."
    )
    # What plain Prophet gives three prices: a band a ten-thousandth wide.
    assert len(notes.forecast_notes(11.0, rows(11.5, 11.49995, 11.50005), 3)) == 2
    assert notes.forecast_notes(11.0, rows(11.0, 10.99, 11.01), 300) == []


@pytest.mark.parametrize(
    ("asked", "tried"),
    [(250, [250, 120, 60, 20, 5, 1]), (60, [60, 20, 5, 1]), (7, [7, 5, 1]), (1, [1])],
)
def test_backtest_tries_the_horizon_asked_then_shorter_ones(asked, tried) -> None:
    assert backtest.horizons_to_try(asked) == tried


@pytest.mark.parametrize(
    ("coverage", "label"),
    [
        (None, "80% band"),
        (0.79, "80% band, held 79% of prices in backtests"),
        (0.274, "80% band, held 27% of prices in backtests"),
    ],
)
def test_band_label(coverage, label) -> None:
    assert backtest.band_label(0.8, coverage) == label


def test_band_label_of_a_shorter_backtest_says_how_far_it_measured() -> None:
    assert backtest.band_label(0.8, 0.81, 120) == (
        "80% band, held 81% of prices in backtests up to 120 trading days ahead"
    )


def test_answer_keeps_the_models_numbers_and_says_why_it_is_shorter() -> None:
    result = {
        "method": "prophet",
        "horizon": 20,
        "interval_width": 0.8,
        "folds": [{"train_end": "a", "test_start": "b", "test_end": "c"}] * 5,
        "scores": {
            "prophet": fakes.scores(20, 1.4, 0.31),
            "random_walk": fakes.scores(20, 1.0, 0.8),
        },
        "verdict": "Worse than the random walk.",
    }
    answer = backtest.answer(
        result, 60, "5 cutoffs of 60 steps need 340 rows; this has 200.", "XNYS"
    )
    assert answer["scores"] is result["scores"]
    assert (answer["horizon_asked"], answer["horizon"], answer["cutoffs"]) == (60, 20, 5)
    assert answer["shortened"] == (
        "Backtested 20 trading days ahead, not the 60 trading days asked for: "
        "5 cutoffs of 60 steps need 340 rows; this has 200."
    )
    assert answer["summary"] == answer["shortened"] + " Worse than the random walk."
    assert answer["band_label"] == (
        "80% band, held 31% of prices in backtests up to 20 trading days ahead"
    )
    assert answer["scored"] == 20
    same = backtest.answer(result, 20, None, "XNYS")
    assert (same["shortened"], same["summary"]) == (None, "Worse than the random walk.")
    # A calendar-day upload counts days, not trading days.
    daily = backtest.answer(result, 60, "too short", None)
    assert daily["step"] == "day"
    assert daily["shortened"] == "Backtested 20 days ahead, not the 60 days asked for: too short."
    assert daily["band_label"].endswith("up to 20 days ahead")
    assert backtest.answer(result, 60, "too short", "B")["step"] == "weekday"


def prices_with_moves(*stretches: tuple[int, float], seed: int = 5) -> list[float]:
    """Prices whose log changes have the given spread over stretches of the given length."""
    rng = np.random.default_rng(seed)
    moves = np.concatenate([rng.normal(0, sd, n) for n, sd in stretches])
    return list(100 * np.exp(np.concatenate([[0.0], np.cumsum(moves)])))


@pytest.mark.parametrize(
    ("stretches", "verdict", "low", "high"),
    [
        # a calm year, then a stormy month (64% of the weight now on it): about 2.5 times the usual
        (((250, 0.01), (25, 0.03)), "wider than usual: volatility has risen", 2.0, 3.5),
        # a stormy year, then a calm month
        (((250, 0.03), (25, 0.01)), "narrower than usual: the market has been calm", 0.5, 0.8),
        # one mood throughout
        (((300, 0.02),), "about as wide as usual", 0.8, 1.25),
    ],
)
def test_the_band_against_its_usual_width(stretches, verdict, low, high) -> None:
    prices = prices_with_moves(*stretches)
    note = notes.band_width_note(prices)
    assert note is not None and f"The band is {verdict}" in note
    ratio = float(note.split("next is ")[1].split("×")[0])
    assert low <= ratio <= high
    assert note.endswith(f"over these {len(prices)} sessions).")


def test_the_band_note_reads_the_bands_own_volatility() -> None:
    """The note's typical move today is the calibrated band's one-step spread, and "usual" the
    median of that same rule over the prices: a note on another decay describes another band."""
    prices = prices_with_moves((300, 0.01), (5, 0.08))  # a stormy week: the decay shows
    z = np.log(prices)
    band_now = float(calibrated.regime_spread(z, np.array([1.0]))[0])
    path = volatility.ewma_path(z, volatility.BAND_DECAY)
    assert band_now == pytest.approx(path[-1], rel=1e-12)  # the band's rule, with this decay

    def ratio(decay: float) -> str:
        usual = np.median(volatility.ewma_path(z, decay)[notes.SETTLING :])
        return f"{volatility.ewma(z, decay) / usual:.1f}×"

    expected = f"{band_now / np.median(path[notes.SETTLING :]):.1f}×"
    assert expected == ratio(volatility.BAND_DECAY)
    # These prices tell the band's decay from its neighbours, so the note could not hide one.
    assert expected not in {ratio(0.95), ratio(0.965), ratio(0.97), ratio(0.94)}
    note = notes.band_width_note(prices)
    assert note is not None and f"is {expected} its median" in note


def test_no_band_note_for_prices_it_cannot_judge() -> None:
    assert notes.band_width_note(prices_with_moves((50, 0.01))) is None  # too few
    assert notes.band_width_note([-1.0, *prices_with_moves((300, 0.01))]) is None
    assert notes.band_width_note([5.0] * 300) is None  # no moves: no usual width
