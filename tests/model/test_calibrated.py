"""The calibrated forecast: anchored at the last value, damped, its band around the last price,
its components adding up to yhat; and `method: "prophet"` answering as before, to the byte."""

from __future__ import annotations

import hashlib
from statistics import NormalDist

import numpy as np
import orjson
import pandas as pd
import pytest

from tests.prices import request_body
from tickercast.contract import VALUE_KEYS, parse_request
from tickercast.model import calibrated
from tickercast.model.calibrated import PointModel
from tickercast.model.engine import ProphetEngine

DAYS = pd.bdate_range("2023-01-02", periods=130)


def straight_line(ds: pd.DatetimeIndex, y: np.ndarray) -> PointModel:
    """A stand-in fit: a least-squares line plus a weekly wave, in the fitted units."""
    t = np.arange(len(ds), dtype=float)
    slope, intercept = np.polyfit(t[~np.isnan(y)], y[~np.isnan(y)], 1)
    start = ds[0]

    def components(dates: pd.DatetimeIndex) -> dict[str, np.ndarray]:
        days = (dates - start).days.to_numpy(dtype=float) * 5 / 7
        return {"trend": intercept + slope * days, "weekly": 0.01 * np.sin(days)}

    return components


def request(y: np.ndarray, **extra: object) -> object:
    body = {"ds": [str(d.date()) for d in DAYS], "y": list(y), "periods": 10, "freq": "B"}
    return parse_request({**body, "method": "calibrated", **extra})


def run(req: object, **kw: float) -> dict[str, np.ndarray]:
    return calibrated.forecast(req, straight_line, **kw)  # type: ignore[arg-type]


RISING = 100 * np.exp(0.01 * np.arange(130) + 0.02 * np.sin(np.arange(130)))


def test_no_damping_is_the_random_walk_and_full_damping_follows_the_fit() -> None:
    walk = run(request(RISING), damping=0.0)
    np.testing.assert_allclose(walk["yhat"], RISING[-1])
    full = run(request(RISING), damping=1.0)
    assert np.all(np.diff(full["trend"]) > 0)  # the fit's rise, from the last value
    assert abs(full["yhat"][0] / RISING[-1] - 1) < 0.03


@pytest.mark.parametrize("y", [RISING, RISING - 150.0])  # log prices; values below zero too
def test_components_add_up_and_the_band_holds_the_last_value(y: np.ndarray) -> None:
    out = run(request(y))
    assert list(out) == list(VALUE_KEYS)
    np.testing.assert_allclose(out["trend"] + out["seasonal"], out["yhat"], atol=1e-9)
    np.testing.assert_allclose(out["seasonalities"], out["weekly"] + out["yearly"], atol=1e-12)
    assert out["yhat_lower"][0] < y[-1] < out["yhat_upper"][0]
    widths = out["yhat_upper"] - out["yhat_lower"]
    assert np.all(np.diff(widths) > 0)


def test_interval_width_is_honoured_and_history_rows_come_first() -> None:
    narrow = run(request(RISING, interval_width=0.5))
    wide = run(request(RISING, interval_width=0.95))
    assert np.all(
        wide["yhat_upper"] - wide["yhat_lower"] > narrow["yhat_upper"] - narrow["yhat_lower"]
    )
    with_history = run(request(RISING, include_history=True))
    assert len(with_history["yhat"]) == 140
    np.testing.assert_allclose(with_history["yhat"][130:], run(request(RISING))["yhat"])


@pytest.mark.parametrize("width", [0.5, 0.8, 0.95])
def test_the_band_grows_with_the_square_root_of_the_step(width: float) -> None:
    # Log changes of +d and -d in equal numbers: their mean is 0, so their standard deviation
    # (n - 1 in the denominator) is d * sqrt(n / (n - 1)), with no estimate in between.
    d, n = 0.01, 130
    log_y = np.log(100.0) + np.concatenate([[0.0], np.cumsum(np.tile([d, -d], n // 2))])
    days = pd.bdate_range("2023-01-02", periods=n + 1)
    body = {"ds": [str(day.date()) for day in days], "y": list(np.exp(log_y)), "freq": "B"}
    req = parse_request({**body, "periods": 12, "interval_width": width, "method": "calibrated"})
    out = calibrated.forecast(req, straight_line)
    sigma = d * np.sqrt(n / (n - 1))
    z = NormalDist().inv_cdf(0.5 + width / 2)
    k = np.arange(1, 13)
    half = (np.log(out["yhat_upper"]) - np.log(out["yhat_lower"])) / 2
    np.testing.assert_allclose(half, z * sigma * np.sqrt(k), rtol=1e-9)


# sha256 of the service's answers before `method` existed, for these two bodies.
PROPHET_BEFORE = [
    ({}, "5a9744c7b53ad3dec696e0b3b4d1bec960d9883b8ee1ef7acebdb147bd13ea68"),
    (
        {"include_history": True, "interval_width": 0.9},
        "13435c19aa4396716a0667fe2b79b6d31beaa5e153cb5c7fca502a0b32477781",
    ),
]


@pytest.fixture(scope="module")
def engine() -> ProphetEngine:
    engine = ProphetEngine()
    engine.warm_up()
    return engine


@pytest.mark.slow
@pytest.mark.parametrize(("extra", "digest"), PROPHET_BEFORE)
def test_method_prophet_answers_as_before_to_the_byte(
    engine: ProphetEngine, extra: dict[str, object], digest: str
) -> None:
    body = request_body("IBM", 80, "k", periods=5, freq="XNYS", **extra)
    plain = engine.run(parse_request(body))
    explicit = engine.run(parse_request({**body, "method": "prophet"}))
    assert plain == explicit
    assert hashlib.sha256(plain).hexdigest() == digest


@pytest.mark.slow
def test_real_calibrated_starts_at_the_last_price(engine: ProphetEngine) -> None:
    body = request_body("AAPL", 300, "k", periods=20, freq="XNYS", method="calibrated")
    last = float(body["y"][-1])  # type: ignore[index]
    frame = pd.DataFrame(orjson.loads(engine.run(parse_request(body))))
    first = frame.iloc[0]
    assert first["yhat_lower"] < last < first["yhat_upper"]
    assert abs(first["yhat"] / last - 1) < 0.02  # no overnight jump
    np.testing.assert_allclose(frame["trend"] + frame["seasonal"], frame["yhat"], rtol=1e-12)
    assert list(frame.index) == [str(i) for i in range(300, 320)]
