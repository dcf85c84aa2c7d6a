"""The Prophet engine: a fitted series is reused for a new horizon with the very same answer."""

from __future__ import annotations

import numpy as np
import orjson
import pytest

from tests.prices import adj_close, request_body
from tickercast.contract import parse_request
from tickercast.model import forecasting
from tickercast.model.engine import ProphetEngine

pytestmark = pytest.mark.slow


def test_refit_is_skipped_for_a_new_horizon_and_answers_do_not_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fits: list[int] = []
    real_fit = forecasting.fit

    def counting_fit(req, timeout=None, engine="cmdstan"):  # type: ignore[no-untyped-def]
        fits.append(req.n)
        return real_fit(req, timeout=timeout, engine=engine)

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
