"""The calibrated forecast: anchored at the last value, damped, its band around the last price,
its components adding up to yhat; and `method: "prophet"` answering as before, to the byte."""

from __future__ import annotations

import hashlib
from statistics import NormalDist

import numpy as np
import orjson
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.prices import request_body
from tickercast.contract import VALUE_KEYS, parse_request
from tickercast.model import calibrated
from tickercast.model.calibrated import PointModel
from tickercast.model.engine import ProphetEngine
from tickercast.quant import quantiles
from tickercast.quant.walk import change_spread

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


def known_volatility(log_changes: np.ndarray, **extra: object) -> object:
    log_y = np.log(100.0) + np.concatenate([[0.0], np.cumsum(log_changes)])
    days = pd.bdate_range("2023-01-02", periods=len(log_y))
    body = {"ds": [str(day.date()) for day in days], "y": list(np.exp(log_y)), "freq": "B"}
    return parse_request({**body, "method": "calibrated", **extra})


def half_widths(req: object, **kw: object) -> np.ndarray:
    out = calibrated.forecast(req, straight_line, **kw)  # type: ignore[arg-type]
    return (np.log(out["yhat_upper"]) - np.log(out["yhat_lower"])) / 2


@pytest.mark.parametrize("width", [0.5, 0.8, 0.95])
def test_the_band_grows_with_the_square_root_of_the_step(width: float) -> None:
    # Log changes of +d and -d in equal numbers: every weighted mean square is d², so the
    # exponentially weighted estimate is d exactly and every standardized change is +1 or -1:
    # no excess kurtosis, so the fitted t has its most degrees of freedom (124) and a root mean
    # square of 1. The year's standard deviation (n - 1 in the denominator) is
    # d * sqrt(n / (n - 1)), 0.4% more, towards which later steps move.
    d, n = 0.01, 130
    req = known_volatility(np.tile([d, -d], n // 2), periods=12, interval_width=width)
    df = 4 + 6 / quantiles.MIN_EXCESS_KURTOSIS
    t = quantiles.t_quantiles(np.array([0.5 + width / 2]), df)[0] * np.sqrt((df - 2) / df)
    assert t == pytest.approx(NormalDist().inv_cdf(0.5 + width / 2), rel=0.01)  # nearly normal
    k = np.arange(1, 13)
    half = half_widths(req)
    assert half[0] == pytest.approx(t * d, rel=1e-9)
    np.testing.assert_allclose(half, t * d * np.sqrt(k), rtol=4e-3)


@settings(deadline=None, max_examples=30)
@given(
    sigma=st.floats(min_value=1e-3, max_value=0.1),
    signs=st.lists(st.booleans(), min_size=130, max_size=400),
    periods=st.integers(min_value=1, max_value=30),
)
def test_a_series_of_known_volatility_gets_a_band_of_sigma_root_k_in_its_normal_shape(
    sigma: float, signs: list[bool], periods: int
) -> None:
    """Every log change is ±sigma (signs drawn), the band drawn as a normal curve (the band
    before): its half-width at step k is z * scale * sigma * sqrt(k) at the first step, and
    later lies between that and the same with the year's standard deviation (which a drift in
    the signs lowers), as the estimate reverts towards it."""
    req = known_volatility(np.where(signs, sigma, -sigma), periods=periods)
    year = change_spread(np.log(req.y), calibrated.VOLATILITY_WINDOW)  # type: ignore[attr-defined]
    scale = calibrated.NORMAL_SCALE
    root_k = scale * NormalDist().inv_cdf(0.9) * np.sqrt(np.arange(1, periods + 1))
    half = half_widths(req, shape=calibrated.normal_shape())
    assert half[0] == pytest.approx(root_k[0] * sigma, rel=1e-9)
    low, high = sorted((sigma, year))
    assert np.all(half >= root_k * low * (1 - 1e-9))
    assert np.all(half <= root_k * high * (1 + 1e-9))


def test_the_band_follows_a_storm_the_year_before_did_not() -> None:
    """A calm year then a stormy month: the band is wider than the year's rule would draw it,
    and after a calm month following a stormy year, narrower."""
    rng = np.random.default_rng(3)
    calm, storm = rng.normal(0, 0.01, 250), rng.normal(0, 0.03, 250)
    for history, wider in (
        (np.concatenate([calm, storm[:21]]), True),
        (np.concatenate([storm, calm[:21]]), False),
    ):
        req = known_volatility(history, periods=5)
        ours = half_widths(req)
        theirs = half_widths(req, spread=calibrated.year_spread)
        assert np.all(ours > theirs) if wider else np.all(ours < theirs)


# sha256 of the service's answers before `method` existed, for these two bodies: Prophet's
# own fit, `engine: "cmdstan"` since the fast fit is the default.
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
    body = request_body("IBM", 80, "k", periods=5, freq="XNYS", engine="cmdstan", **extra)
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


LEVELS = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 95.0, 98.0]


def test_the_level_at_the_interval_width_is_the_band_to_the_bit() -> None:
    req = request(RISING, interval_width=0.8, include_history=True)
    columns, bands = calibrated.forecast_levels(req, straight_line, [95, 80, 50])  # type: ignore[arg-type]
    assert list(bands) == [95.0, 80.0, 50.0]
    np.testing.assert_array_equal(bands[80.0][0], columns["yhat_lower"])
    np.testing.assert_array_equal(bands[80.0][1], columns["yhat_upper"])
    for name, values in run(req).items():
        np.testing.assert_array_equal(values, columns[name])  # the same answer as without levels


def fat_tailed(seed: int, n: int = 1000) -> object:
    """Log changes from a Student-t with 3 degrees of freedom."""
    rng = np.random.default_rng(seed)
    return known_volatility(0.01 * rng.standard_t(3, n), periods=5)


def level_offsets(req: object) -> dict[float, tuple[np.ndarray, np.ndarray]]:
    """Each level's edges in log units from yhat, at each step."""
    columns, bands = calibrated.forecast_levels(req, straight_line, LEVELS)  # type: ignore[arg-type]
    centre = np.log(columns["yhat"])
    return {level: (np.log(lo) - centre, np.log(up) - centre) for level, (lo, up) in bands.items()}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fat_tails_give_a_narrower_middle_and_wider_tails_than_a_normal_curve(seed: int) -> None:
    """Of changes drawn from a Student-t with 3 degrees of freedom, the 98% band is more than
    the normal curve's 3.45 times the 50% band (2.326 / 0.674)."""
    offsets = level_offsets(fat_tailed(seed))
    ratio = offsets[98.0][1] / offsets[50.0][1]
    assert np.all(ratio > 3.45 * 1.1)


@settings(deadline=None, max_examples=40)
@given(
    changes=st.lists(st.floats(min_value=-3.0, max_value=3.0), min_size=119, max_size=300).filter(
        lambda c: max(np.abs(np.cumsum(c))) < 600
    ),
    start=st.floats(min_value=1e-6, max_value=1e6),
    periods=st.integers(min_value=1, max_value=40),
)
def test_levels_are_nested_at_every_step_and_widen_with_the_step(
    changes: list[float], start: float, periods: int
) -> None:
    """Any history of finite log changes (calm, wild, constant): a wider level is never inside
    a narrower one, yhat is inside every level, and every edge moves away from yhat with the
    step."""
    log_y = np.log(start) + np.concatenate([[0.0], np.cumsum(changes)])
    days = pd.bdate_range("2023-01-02", periods=len(log_y))
    body = {"ds": [str(d.date()) for d in days], "y": list(np.exp(log_y)), "periods": periods}
    offsets = level_offsets(parse_request({**body, "freq": "B", "method": "calibrated"}))
    lows = np.array([offsets[level][0] for level in LEVELS])
    ups = np.array([offsets[level][1] for level in LEVELS])
    tolerance = 1e-9 * (1 + np.abs(np.log(start)) + np.max(np.abs(np.cumsum(changes))))
    assert np.all(lows <= tolerance) and np.all(ups >= -tolerance)
    assert np.all(np.diff(lows, axis=0) <= tolerance)  # wider levels reach lower
    assert np.all(np.diff(ups, axis=0) >= -tolerance)
    assert np.all(np.diff(lows, axis=1) <= tolerance)  # and further with the step
    assert np.all(np.diff(ups, axis=1) >= -tolerance)


@pytest.mark.parametrize("levels", [[0.0], [100.0], [-5.0], [150.0]])
def test_a_level_outside_zero_to_a_hundred_is_refused(levels: list[float]) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        calibrated.forecast_levels(request(RISING), straight_line, levels)  # type: ignore[arg-type]
