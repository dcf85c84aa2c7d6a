"""Properties every forecast keeps on generated series (gaps, calendars, lengths, levels), for
every method and fit engine, real Prophet and CmdStan included: every row is finite, and the
calibrated forecast moves from the last value in steps its own band allows."""

from __future__ import annotations

import numpy as np
import orjson
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tickercast.contract import CALIBRATED_MIN_ROWS, VALUE_KEYS, parse_request
from tickercast.model.engine import ProphetEngine

pytestmark = pytest.mark.slow

HISTORIES = ("every day", "weekdays", "weekdays with holes", "every day, a long gap")
FREQS = ("D", "B", "XNYS")
METHODS = ("prophet", "calibrated")
ENGINES = ("fast", "cmdstan")


@st.composite
def series(draw: st.DrawFn) -> dict[str, object]:
    """A price-like random walk on one of the calendars clients send, as a request body."""
    rows = draw(st.integers(CALIBRATED_MIN_ROWS, 400))
    shape = draw(st.sampled_from(HISTORIES))
    level = draw(st.floats(0.01, 10_000.0))
    volatility = draw(st.sampled_from((0.0, 0.002, 0.02, 0.06)))
    drift = draw(st.floats(-0.003, 0.003))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    days = pd.date_range("2016-01-04", periods=3 * rows, freq="D")
    if shape != "every day":
        days = days[days.day_of_week < 5]
    if shape == "weekdays with holes":
        days = days[rng.random(len(days)) > 0.2]
    if shape == "every day, a long gap":
        days = days.delete(slice(rows // 3, rows // 3 + 90))
    days = days[:rows]
    steps = drift + volatility * rng.standard_normal(len(days))
    y = level * np.exp(np.cumsum(steps) - steps[0])
    return {
        "key": "k",
        "ds": [str(d.date()) for d in days],
        "y": [float(v) for v in y],
        "periods": draw(st.integers(1, 40)),
        "freq": draw(st.sampled_from(FREQS)),
    }


def columns(answer: bytes) -> dict[str, np.ndarray]:
    body = orjson.loads(answer)
    return {
        name: np.array([body[name][k] for k in sorted(body[name], key=int)], dtype=float)
        for name in VALUE_KEYS
    }


@pytest.fixture(scope="module")
def engine() -> ProphetEngine:
    warm = ProphetEngine()
    warm.warm_up()
    return warm


@settings(
    max_examples=12,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=series())
def test_every_row_is_finite_and_the_calibrated_steps_stay_in_their_band(
    engine: ProphetEngine, body: dict[str, object]
) -> None:
    for method in METHODS:
        for fit in ENGINES:
            answer = columns(engine.run(parse_request(body | {"method": method, "engine": fit})))
            for name, values in answer.items():
                assert np.isfinite(values).all(), (method, fit, name)
    y = np.asarray(body["y"], dtype=float)
    if np.all(np.diff(y) == 0):
        return
    calibrated = columns(engine.run(parse_request(body | {"method": "calibrated"})))
    yhat, lower, upper = calibrated["yhat"], calibrated["yhat_lower"], calibrated["yhat_upper"]
    slack = 1e-9 * yhat
    assert np.all(yhat[1:] >= lower[:-1] - slack[1:])
    assert np.all(yhat[1:] <= upper[:-1] + slack[1:])
    # the first step's band, moved to the last value: its centre is inside
    half = (np.log(upper[0]) - np.log(lower[0])) / 2
    assert abs(np.log(yhat[0]) - np.log(y[-1])) <= half + 1e-9
