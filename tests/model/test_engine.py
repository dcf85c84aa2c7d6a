"""The Prophet engine: a fitted series is reused for a new horizon with the very same answer."""

from __future__ import annotations

import numpy as np
import orjson
import pytest

from tests.support.prices import adj_close, request_body
from tickercast.contract import parse_request
from tickercast.model.engine import ProphetEngine
from tickercast.model.prophet_seam import forecasting

pytestmark = pytest.mark.slow


def test_refit_is_skipped_for_a_new_horizon_and_answers_do_not_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fits: list[int] = []
    real_fit = forecasting.fit

    def counting_fit(ds, y, engine="cmdstan", timeout=None, **shared):  # type: ignore[no-untyped-def]
        fits.append(len(ds))
        return real_fit(ds, y, engine, timeout, **shared)

    monkeypatch.setattr(forecasting, "fit", counting_fit)
    warm = ProphetEngine()
    short = parse_request(request_body("MSFT", 200, "k", periods=10))
    long = parse_request(request_body("MSFT", 200, "k", periods=40, interval_width=0.95))
    warm.run(short)
    reused = warm.run(long)
    assert fits == [200]
    fresh = ProphetEngine().run(long)
    assert reused == fresh
    assert fits == [200, 200]


def test_stan_input_file_holds_every_float_exactly() -> None:
    frame = adj_close("GOOG", 50)
    values = frame["y"].to_numpy() / 3.0  # floats with long expansions
    payload = {"T": 50, "y": values, "X": frame[["y"]] / 7.0, "sigmas": [10.0, 0.1]}
    back = orjson.loads(forecasting.stan_json(payload))
    assert back["T"] == 50 and back["sigmas"] == [10.0, 0.1]
    assert np.array_equal(np.array(back["y"]), values)
    assert np.array_equal(np.array(back["X"]), (frame[["y"]] / 7.0).to_numpy())


@pytest.mark.parametrize("method", ["prophet", "calibrated"])
def test_the_engine_uses_the_dates_resolved_on_the_request(
    monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    from tickercast.quant import calendars

    req = parse_request(
        request_body("AAPL", 300, "k", periods=10, freq="XNYS", method=method, engine="fast")
    )
    resolved: list[str] = []
    real_future_dates = calendars.future_dates

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        resolved.append(str(args))
        return real_future_dates(*args, **kwargs)

    monkeypatch.setattr(calendars, "future_dates", counting)
    body = orjson.loads(ProphetEngine().run(req))
    assert list(body["ds"].values()) == [str(d.date()) for d in req.future]
    assert resolved == []  # no request of its own made and checked on the way
