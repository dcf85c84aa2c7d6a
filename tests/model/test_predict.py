"""The array predict equals Prophet's own `predict` under the same seed, to the bit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.support.prices import request_body
from tickercast.contract import parse_request
from tickercast.model.prophet_seam import forecasting
from tickercast.model.prophet_seam.predict import predict

pytestmark = pytest.mark.slow

CASES = [
    ("AAPL", 800, {}),  # weekly and yearly seasonality, weekday steps
    ("MSFT", 300, {"include_history": True}),  # history rows and future rows
    ("IBM", 400, {"freq": "D", "interval_width": 0.95}),
    ("GOOG", 20, {"freq": "XNYS"}),  # weekly only
    ("FB", 5, {}),  # nothing seasonal: Prophet's placeholder column
]


@pytest.mark.parametrize(("ticker", "rows", "extra"), CASES)
def test_equals_prophet_predict_under_the_same_seed(
    ticker: str, rows: int, extra: dict[str, object]
) -> None:
    from prophet import Prophet

    req = parse_request(request_body(ticker, rows, "k", periods=60, **extra))
    model = Prophet()  # plain Prophet: nothing of ours in the model or its predict
    model.fit(forecasting.history_frame(req.ds, req.y))
    dates = req.dates
    ours = predict(model, dates, req.interval_width, req.seed())

    model.interval_width = req.interval_width
    np.random.seed(req.seed())
    theirs = model.predict(pd.DataFrame({"ds": dates}))
    assert set(ours) == set(theirs.columns) - {"ds"} - {
        c for c in theirs.columns if c.startswith("multiplicative_terms")
    }
    for column, values in ours.items():
        assert np.array_equal(values, theirs[column].to_numpy()), column


@pytest.mark.parametrize(("ticker", "rows", "extra"), CASES[:2] + CASES[4:])
def test_our_fit_is_prophets_fit_to_the_bit(
    ticker: str, rows: int, extra: dict[str, object]
) -> None:
    from prophet import Prophet

    req = parse_request(request_body(ticker, rows, "k", **extra))
    plain = Prophet()
    plain.fit(forecasting.history_frame(req.ds, req.y))
    ours = forecasting.fit(req.ds, req.y)
    assert plain.params.keys() == ours.params.keys()
    for name, values in plain.params.items():
        assert np.array_equal(values, ours.params[name]), name
    assert np.array_equal(plain.changepoints_t, ours.changepoints_t)
    assert (plain.y_scale, plain.start, plain.t_scale) == (ours.y_scale, ours.start, ours.t_scale)


def test_rows_come_back_in_the_order_asked() -> None:
    req = parse_request(request_body("IBM", 200, "k", periods=5))
    model = forecasting.fit(req.ds, req.y)
    dates = req.dates
    shuffled = dates[[3, 0, 4, 1, 2]]
    in_order = predict(model, dates, 0.8, 7)
    out_of_order = predict(model, shuffled, 0.8, 7)
    np.testing.assert_array_equal(out_of_order["trend"], in_order["trend"][[3, 0, 4, 1, 2]])
    np.testing.assert_array_equal(out_of_order["yhat"], in_order["yhat"][[3, 0, 4, 1, 2]])
