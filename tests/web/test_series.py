"""The pure parts: choices, windows, adjustment, normalising, and the backtest's arithmetic."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tests.web import fakes
from tickercast.errors import InvalidInput
from tickercast.web import backtest
from tickercast.web.series import (
    Choices,
    adjusted,
    forecast_csv,
    guess_freq,
    in_window,
    normalised,
)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((None, None, None), Choices("2y", 60, "line")),
        (("", "", ""), Choices("2y", 60, "line")),
        (("max", "500", "candles"), Choices("max", 500, "candles")),
        (("3m", 1, "line"), Choices("3m", 1, "line")),
    ],
)
def test_choices_parse(args, expected) -> None:
    assert Choices.parse(*args) == expected


@pytest.mark.parametrize(
    "args", [("1d", None, None), (None, "0", None), (None, "2.5", None), (None, None, "bar")]
)
def test_bad_choices(args) -> None:
    with pytest.raises(InvalidInput):
        Choices.parse(*args)


def test_choices_query_round_trip() -> None:
    choices = Choices("6m", 20, "candles")
    query = choices.query()
    assert Choices.parse(query["window"], query["h"], query["chart"]) == choices
    assert choices.query(h=5)["h"] == "5"


def test_window_and_adjustment() -> None:
    frame = fakes.price_frame(300)
    assert len(in_window(frame, "6m")) == 126
    assert len(in_window(frame, "max")) == 300
    adj = adjusted(frame)
    assert np.allclose(adj["close"], frame["adj_close"])
    assert np.allclose(adj["open"] / adj["close"], frame["open"] / frame["close"])
    assert np.allclose(frame["close"], fakes.price_frame(300)["close"])  # input untouched


def test_adjustment_without_adj_close_keeps_prices() -> None:
    frame = fakes.price_frame(10)
    frame["adj_close"] = math.nan
    assert np.allclose(adjusted(frame)["close"], frame["close"])


def test_normalised_starts_at_100() -> None:
    series = pd.Series([math.nan, 50.0, 75.0, 25.0])
    assert normalised(series).tolist()[1:] == [100.0, 150.0, 50.0]


def test_guess_freq() -> None:
    assert guess_freq(fakes.sessions(10)) == "XNYS"
    assert guess_freq(pd.date_range("2024-01-01", periods=10)) is None


def test_forecast_csv_leaves_missing_values_empty() -> None:
    rows = [{"ds": "2024-01-02", "yhat": 1.5, "yhat_lower": None}]
    assert (
        forecast_csv(rows, ("ds", "yhat", "yhat_lower")) == "ds,yhat,yhat_lower\n2024-01-02,1.5,\n"
    )


@pytest.mark.parametrize(
    ("n", "horizon", "holdout", "cuts"),
    [
        (504, 60, 60, [444, 384, 324]),
        (504, 250, 60, [444, 384, 324]),
        (120, 10, 10, [110, 100, 90]),
        (120, 60, 20, [100, 80, 60]),
        (70, 20, 11, [59, 48, 37]),
        (40, 5, 5, [35, 30]),
        (30, 5, 5, []),
    ],
)
def test_backtest_plan(n, horizon, holdout, cuts) -> None:
    assert backtest.plan(n, horizon) == (holdout, cuts)


def test_score_against_known_numbers() -> None:
    actual = np.array([100.0, 110.0, 90.0, 100.0])
    table = pd.DataFrame(
        {
            "yhat": [100.0, 100.0, 100.0, 100.0],
            "yhat_lower": [95.0, 95.0, 95.0, 95.0],
            "yhat_upper": [105.0, 105.0, 105.0, 105.0],
        }
    )
    model_mape, naive_mape, coverage = backtest.score(actual, table, last_value=110.0)
    assert model_mape == pytest.approx((0 + 10 / 110 + 10 / 90 + 0) / 4 * 100, abs=1e-3)
    assert naive_mape == pytest.approx((10 / 100 + 0 + 20 / 90 + 10 / 100) / 4 * 100, abs=1e-3)
    assert coverage == 0.5


def test_run_uses_only_the_past_and_scores_every_fold() -> None:
    index = fakes.sessions(120)
    series = pd.Series(np.arange(1.0, 121.0), index=index)
    seen: list[tuple[int, str, int]] = []

    def perfect(ds: list[str], y: list[float], periods: int) -> pd.DataFrame:
        seen.append((len(y), ds[-1], periods))
        future = np.arange(len(y) + 1.0, len(y) + periods + 1.0)  # the truth, known here
        return pd.DataFrame({"yhat": future, "yhat_lower": future - 1, "yhat_upper": future + 1})

    result = backtest.run(series, 10, perfect, 0.8)
    assert [s[0] for s in seen] == [110, 100, 90]
    assert seen[0][1] == index[109].strftime("%Y-%m-%d")
    assert result.model_mape == 0.0
    assert result.coverage == 1.0
    assert result.naive_mape is not None and result.naive_mape > 0
    assert result.folds[0].test_start == index[110].strftime("%Y-%m-%d")
    assert result.folds[0].test_end == index[119].strftime("%Y-%m-%d")
    assert "better than repeating the last price" in result.summary()
