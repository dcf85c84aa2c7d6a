"""The pure parts: choices, windows, adjustment, normalising."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.support import fakes
from tickercast import contract
from tickercast.errors import InvalidInput
from tickercast.web import series
from tickercast.web.series import (
    METHODS,
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
    # weekdays before the exchange calendar's first session: the model infers the step
    assert guess_freq(pd.DatetimeIndex(["1917-09-05", "1936-12-21"])) is None


def test_forecast_csv_leaves_missing_values_empty() -> None:
    rows = [{"ds": "2024-01-02", "yhat": 1.5, "yhat_lower": None}]
    assert (
        forecast_csv(rows, ("ds", "yhat", "yhat_lower")) == "ds,yhat,yhat_lower\n2024-01-02,1.5,\n"
    )


def test_the_method_choices_are_the_contracts() -> None:
    assert sorted(METHODS) == sorted(contract.METHODS)
    assert Choices().method == "calibrated"
    assert Choices.parse(None, None, None, "prophet").method == "prophet"
    with pytest.raises(InvalidInput, match="method must be one of calibrated, prophet"):
        Choices.parse(None, None, None, "arima")


def test_the_pages_method_list_keeps_its_order_and_the_wires_default_stays_its_own() -> None:
    assert METHODS == ("calibrated", "prophet")  # the page's default first
    assert (contract.DEFAULT_METHOD, contract.METHODS) == ("prophet", ("prophet", "calibrated"))


def test_the_track_record_charts_nominal_width_is_the_wires_default() -> None:
    """record.js draws the band's nominal width before any record says it: the same 0.8."""
    script = (Path(series.__file__).parent / "static" / "record.js").read_text()
    fallback = re.search(
        r"const nominal = steps\.length \? steps\[0\]\.interval_width : ([\d.]+);", script
    )
    assert fallback is not None, "record.js no longer says its nominal width where expected"
    assert float(fallback.group(1)) == contract.DEFAULT_INTERVAL_WIDTH
