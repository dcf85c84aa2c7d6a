"""Never a null in a 200: values from 1e-300 to 1e308 in magnitude, of either sign, get either a
forecast of finite numbers or a 400 that says why, for every method and fit engine and the
mock."""

from __future__ import annotations

import functools
import math

import httpx
import numpy as np
import orjson
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.loop import run
from tickercast.contract import CALIBRATED_MIN_ROWS, MAX_ABS_Y, VALUE_KEYS, check_finite_answer
from tickercast.errors import InvalidInput
from tickercast.model.api import create_app
from tickercast.settings import ModelSettings

ROWS = CALIBRATED_MIN_ROWS + 10
DATES = [str(d.date()) for d in pd.bdate_range("2020-01-01", periods=ROWS)]
EXAMPLES = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def extreme_series(draw: st.DrawFn) -> list[float]:
    """Values of one scale (a walk around 10^e) or of scales all over the range, either sign."""
    exponent = draw(st.floats(-300, 308))
    signs = draw(st.sampled_from(("+", "-", "mixed")))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if draw(st.booleans()):
        steps = draw(st.sampled_from((0.0, 0.001, 0.05))) * rng.standard_normal(ROWS)
        magnitudes = 10.0**exponent * np.exp(np.cumsum(steps))
    else:
        magnitudes = 10.0 ** rng.uniform(-300, 308, ROWS)
    sign = {"+": 1.0, "-": -1.0, "mixed": rng.choice([-1.0, 1.0], ROWS)}[signs]
    y = np.clip(sign * magnitudes, -1.7e308, 1.7e308)
    return [float(v) for v in y]


def answer(app: object, body: dict[str, object]) -> httpx.Response:
    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://m", timeout=120) as c:
            return await c.post("/", content=orjson.dumps(body))

    return run(post())


def assert_finite_or_refused(response: httpx.Response, y: list[float]) -> None:
    if response.status_code == 400:
        message = response.json()["message"]
        assert message.startswith("invalid input: ") and len(message) > 40, message
        return
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"ds", *VALUE_KEYS}
    values = [v for key in VALUE_KEYS for v in body[key].values()]
    assert all(isinstance(v, float | int) and math.isfinite(v) for v in values)
    assert max(abs(v) for v in y) <= MAX_ABS_Y  # larger ones are always refused


def app_for(mock: bool) -> object:
    return create_app(
        ModelSettings(model_api_keys="k", model_mock=mock, model_rate_limit="1000000/minute")
    )


MOCK = app_for(mock=True)


@functools.cache
def prophet_app() -> object:
    return app_for(mock=False)


@settings(EXAMPLES, max_examples=150)
@given(y=extreme_series(), method=st.sampled_from(("prophet", "calibrated")))
def test_the_mock_answers_finite_numbers_or_refuses(y: list[float], method: str) -> None:
    body = {"key": "k", "ds": DATES, "y": y, "periods": 5, "method": method}
    assert_finite_or_refused(answer(MOCK, body), y)


@pytest.mark.slow
@settings(EXAMPLES, max_examples=40)
@given(y=extreme_series(), method=st.sampled_from(("prophet", "calibrated")))
def test_the_fast_engine_answers_finite_numbers_or_refuses(y: list[float], method: str) -> None:
    body = {"key": "k", "ds": DATES, "y": y, "periods": 5, "method": method, "engine": "fast"}
    assert_finite_or_refused(answer(prophet_app(), body), y)


@pytest.mark.slow
@settings(EXAMPLES, max_examples=6)
@given(y=extreme_series(), method=st.sampled_from(("prophet", "calibrated")))
def test_cmdstan_answers_finite_numbers_or_refuses(y: list[float], method: str) -> None:
    body = {"key": "k", "ds": DATES, "y": y, "periods": 5, "method": method, "engine": "cmdstan"}
    assert_finite_or_refused(answer(prophet_app(), body), y)


@pytest.mark.parametrize("value", [1.5e150, -1e200, 1e308, -1.7e308])
def test_a_value_over_the_limit_is_a_400_naming_it(value: float) -> None:
    y = [1.0] * ROWS
    y[17] = value
    response = answer(MOCK, {"key": "k", "ds": DATES, "y": y, "periods": 5})
    assert response.status_code == 400
    assert response.json()["message"] == (
        f"invalid input: y[17] is {value:.6g}: values larger than 1e150 in magnitude are "
        "refused (the forecast's arithmetic would overflow); send the series in larger units"
    )


@pytest.mark.parametrize("value", [1e150, -1e150, 1e-300, -1e-300, 5e-324, 0.0])
def test_values_within_the_limit_are_forecast_in_finite_numbers(value: float) -> None:
    y = [value * (1 - 0.1 * (i % 3)) for i in range(ROWS)]
    response = answer(MOCK, {"key": "k", "ds": DATES, "y": y, "periods": 5})
    assert_finite_or_refused(response, y)
    assert response.status_code == 200


def test_a_forecast_that_is_not_finite_is_never_encoded() -> None:
    columns = {key: np.ones(3) for key in VALUE_KEYS}
    check_finite_answer(columns)
    columns["yhat_upper"] = np.array([1.0, math.inf, 1.0])
    with pytest.raises(InvalidInput, match="the forecast's yhat_upper is not a finite number"):
        check_finite_answer(columns)
