"""`levels`: parsed and checked in the contract, their keys and order in every answer, nested
bands, the same bytes without them, and the backtest's scores at every level (the mock engine
through the app; the calibrated method and Prophet's samples with real fits)."""

from __future__ import annotations

import math
import re

import numpy as np
import orjson
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from tests.model.test_api import KEY, settings
from tickercast.contract import (
    LEVEL_KEY_PATTERN,
    MAX_LEVELS,
    VALUE_KEYS,
    ForecastRequest,
    answer_keys,
    level_keys,
    level_name,
    parse_request,
)
from tickercast.errors import InvalidInput
from tickercast.model.api import create_app
from tickercast.model.engine import MockEngine, forecast_body, with_levels

DAYS = [str(d.date()) for d in pd.bdate_range("2022-01-03", periods=160)]
RNG = np.random.default_rng(23)
PRICES = (100 * np.exp(np.cumsum(RNG.normal(0, 0.01, 160)))).tolist()
SERIES = {"ds": DAYS, "y": PRICES, "periods": 5}
DECILE_LEVELS = [10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 98]


@pytest.mark.parametrize(
    ("levels", "message"),
    [
        ("80", "levels must be a list"),
        ({"80": 1}, "levels must be a list"),
        (80, "levels must be a list"),
        ([], "levels must hold 1 to 11 numbers (got 0)"),
        (list(range(1, 13)), "levels must hold 1 to 11 numbers (got 12)"),
        ([50, "80"], "levels[1]: '80' is not a number"),
        ([50, None], "levels[1]: None is not a number"),
        ([True], "levels[0]: True is not a number"),
        ([50, 80, False], "levels[2]: False is not a number"),
        ([[80]], "levels[0]: [80] is not a number"),
        ([0], "levels[0]: 0 is not between 0 and 100 (exclusive)"),
        ([50, 100], "levels[1]: 100 is not between 0 and 100 (exclusive)"),
        ([-5], "levels[0]: -5 is not between 0 and 100 (exclusive)"),
        ([100.0], "levels[0]: 100.0 is not between 0 and 100 (exclusive)"),
        ([10**400], "levels[0]: 1000000000000000000000000000000000000000 is not between"),
        ([80, 80.0], "levels[1]: 80.0 repeats levels[0] as a number"),
        ([50, 80, 50], "levels[2]: 50 repeats levels[0] as a number"),
    ],
)
def test_bad_levels_are_refused_naming_the_item(levels: object, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_request({**SERIES, "levels": levels})
    assert caught.value.client_message.startswith(f"invalid input: {message}")


def test_bad_levels_are_a_400_through_the_app() -> None:
    with TestClient(create_app(settings())) as client:
        body = {"key": KEY, **SERIES, "levels": [50, 80, 120]}
        resp = client.post("/", content=orjson.dumps(body))
        bt = client.post("/backtest", content=orjson.dumps({**body, "horizon": 5}))
    assert resp.status_code == bt.status_code == 400
    assert "levels[2]: 120 is not between" in resp.text and "levels[2]" in bt.text


def test_levels_parse_to_an_increasing_tuple_named_in_shortest_form() -> None:
    req = parse_request({**SERIES, "levels": [95, 50.0, 97.5, 80]})
    assert req.levels == (50.0, 80.0, 95.0, 97.5)
    assert [level_name(level) for level in req.levels] == ["50", "80", "95", "97.5"]
    assert parse_request({**SERIES, "levels": [0.5, 99.99]}).levels == (0.5, 99.99)
    assert level_keys(0.5) == ("yhat_lower_0.5", "yhat_upper_0.5")
    assert level_name(1e-05) == "0.00001" and level_name(99.99999) == "99.99999"
    for level in (1e-05, 0.5, 80, 97.5, 99.99999):
        assert all(re.match(LEVEL_KEY_PATTERN, key) for key in level_keys(level))
    assert parse_request(SERIES).levels == ()
    assert len(parse_request({**SERIES, "levels": DECILE_LEVELS}).levels) == MAX_LEVELS


def test_the_cache_key_includes_levels_and_is_unchanged_without_them() -> None:
    plain = parse_request(SERIES)
    with_80 = parse_request({**SERIES, "levels": [80]})
    assert parse_request({**SERIES, "levels": [80.0]}).digest() == with_80.digest()
    assert (
        len({plain.digest(), with_80.digest(), parse_request({**SERIES, "levels": [95]}).digest()})
        == 3
    )
    # The key of a request without levels is the one before levels existed.
    import hashlib

    h = hashlib.sha256(plain.series_digest().encode())
    h.update(f"|{plain.periods}|{plain.freq}|{plain.include_history}|{0.8!r}".encode())
    assert plain.digest() == h.hexdigest()


def mock_answer(payload: dict[str, object]) -> dict[str, dict[str, object]]:
    req = parse_request(payload)
    engine = MockEngine()
    result: dict[str, dict[str, object]] = orjson.loads(forecast_body(engine.method(req), req))
    return result


def test_mock_answers_each_level_after_the_19_keys_in_increasing_order() -> None:
    plain = mock_answer(SERIES)
    body = mock_answer({**SERIES, "levels": [95, 50, 80]})
    level_part = ["yhat_lower_50", "yhat_upper_50", "yhat_lower_80", "yhat_upper_80"]
    assert list(body) == ["ds", *VALUE_KEYS, *level_part, "yhat_lower_95", "yhat_upper_95"]
    assert {k: body[k] for k in plain} == plain  # the 19 keys as without levels
    assert list(body["yhat_lower_80"]) == list(plain["yhat"])  # the same row labels
    assert body["yhat_lower_80"] == plain["yhat_lower"]  # 80 is the interval width


def test_without_levels_the_bytes_are_those_of_the_answer_without_the_field() -> None:
    with TestClient(create_app(settings())) as client:
        plain = client.post("/", content=orjson.dumps({"key": KEY, **SERIES}))
        levels = client.post("/", content=orjson.dumps({"key": KEY, **SERIES, "levels": [80]}))
        again = client.post("/", content=orjson.dumps({"key": KEY, **SERIES}))
    req = parse_request(SERIES)
    assert plain.content == again.content == forecast_body(MockEngine().method(req), req)
    assert levels.content != plain.content  # not served from the other's cache entry
    assert list(levels.json())[-2:] == ["yhat_lower_80", "yhat_upper_80"]


def assert_nested(body: dict[str, dict[str, float]], levels: list[float]) -> None:
    """Every level's band holds the narrower ones, at every row."""
    ordered = sorted(levels)
    for narrow, wide in zip(ordered, ordered[1:], strict=False):
        (nlo, nhi), (wlo, whi) = level_keys(narrow), level_keys(wide)
        for row in body["yhat"]:
            assert body[wlo][row] <= body[nlo][row] <= body[nhi][row] <= body[whi][row]


LEVEL_LISTS = st.lists(
    st.floats(min_value=0.01, max_value=99.99, allow_nan=False), min_size=1, max_size=MAX_LEVELS
).filter(lambda xs: len(set(xs)) == len(xs))


@hyp_settings(max_examples=60, deadline=None)
@given(levels=LEVEL_LISTS)
def test_mock_levels_are_nested_around_yhat(levels: list[float]) -> None:
    body = mock_answer({**SERIES, "levels": levels})
    assert list(body)[len(VALUE_KEYS) + 1 :] == list(answer_keys(levels)[len(VALUE_KEYS) :])
    assert_nested(body, levels)
    lo, hi = level_keys(min(levels))
    for row, center in body["yhat"].items():
        assert body[lo][row] <= center <= body[hi][row]


def test_mock_backtest_scores_every_level() -> None:
    payload = {"key": KEY, **SERIES, "horizon": 5, "cutoffs": 6, "method": "calibrated"}
    with TestClient(create_app(settings())) as client:
        plain = client.post("/backtest", content=orjson.dumps(payload))
        data = client.post("/backtest", content=orjson.dumps({**payload, "levels": DECILE_LEVELS}))
        again = client.post("/backtest", content=orjson.dumps(payload))
    assert plain.status_code == data.status_code == 200
    assert plain.content == again.content and "by_level" not in plain.text
    scores = data.json()["scores"]
    assert {k: v for k, v in scores.items() if k != "calibrated"} == {
        k: v for k, v in plain.json()["scores"].items() if k != "calibrated"
    }
    overall = scores["calibrated"]["overall"]
    assert [item["level"] for item in overall["by_level"]] == DECILE_LEVELS
    for item in overall["by_level"]:
        assert list(item) == ["level", "coverage", "low", "high", "interval_score"]
        assert item["low"] <= item["coverage"] <= item["high"]
    coverages = [item["coverage"] for item in overall["by_level"]]
    assert coverages == sorted(coverages)  # nested bands: coverage grows with the level
    assert sum(overall["pit"]) == overall["count"] == 30 and len(overall["pit"]) == 10
    assert overall["wis"] > 0 and overall["wis_ratio"] > 0
    steps = scores["calibrated"]["by_step"]
    assert len(steps) == 5 and all(sum(step["pit"]) == 6 for step in steps)
    for key in ("mae", "coverage", "interval_score"):  # the single band's scores as before
        assert overall[key] == plain.json()["scores"]["calibrated"]["overall"][key]


def test_backtest_level_scores_agree_with_the_scoring_functions() -> None:
    from tickercast.model import backtesting
    from tickercast.quant.walk import Forecast

    actual = np.array([[1.0, 2.0], [3.0, math.nan]])
    forecasts = [Forecast(np.zeros(2), -np.ones(2), np.ones(2))] * 2
    bands = [{50.0: (np.full(2, -1.0), np.full(2, 1.0))}] * 2
    walk = (np.zeros((2, 2)), [[(np.full(2, -2.0), np.full(2, 2.0))]] * 2)
    scores = {"overall": {}, "by_step": [{}, {}]}
    backtesting.add_level_scores(scores, forecasts, bands, walk, actual)
    item = scores["overall"]["by_level"][0]
    assert item["level"] == 50 and item["coverage"] == pytest.approx(1 / 3)
    # interval score at 50%: width 2, plus 2 / 0.5 times each miss (1 and 2)
    assert item["interval_score"] == pytest.approx((2 + 2 + 4 * 1 + 2 + 4 * 2) / 3)
    assert "pit" not in scores["overall"]
    assert scores["by_step"][1]["by_level"][0]["coverage"] == 0.0


def flat_fit(ds: pd.DatetimeIndex, z: np.ndarray) -> object:
    """A point model without Prophet: a constant trend and no seasonality."""

    def model(dates: pd.DatetimeIndex) -> dict[str, np.ndarray]:
        return {"trend": np.full(len(dates), float(np.nanmean(z)))}

    return model


CALIBRATED_SERIES = {**SERIES, "method": "calibrated", "periods": 10}


@hyp_settings(max_examples=40, deadline=None)
@given(levels=LEVEL_LISTS, history=st.booleans())
def test_calibrated_levels_are_nested_around_the_median(levels: list[float], history: bool) -> None:
    from tickercast.model import calibrated
    from tickercast.model.engine import Method

    req = parse_request({**CALIBRATED_SERIES, "levels": levels, "include_history": history})

    def answer(r: ForecastRequest) -> dict[str, np.ndarray]:
        columns, bands = calibrated.forecast_levels(req, flat_fit, req.levels)
        return with_levels(columns, bands)

    body = orjson.loads(forecast_body(Method("t", "r", answer), req))
    assert_nested(body, levels)
    lo, hi = level_keys(min(levels))
    for row, median in body["yhat"].items():
        assert body[lo][row] <= median <= body[hi][row]
    plain = parse_request({**CALIBRATED_SERIES, "include_history": history})
    before = orjson.loads(
        forecast_body(Method("t", "r", lambda r: calibrated.forecast(plain, flat_fit)), plain)
    )
    assert {k: body[k] for k in before} == before  # the 19 keys as without levels


def test_calibrated_level_at_the_interval_width_is_the_band_bit_for_bit() -> None:
    from tickercast.model import calibrated

    for width, level in ((0.8, 80), (0.95, 95), (0.5, 50.0), (0.975, 97.5)):
        req = parse_request({**CALIBRATED_SERIES, "interval_width": width, "levels": [level, 10]})
        columns, bands = calibrated.forecast_levels(req, flat_fit, req.levels)
        lower, upper = bands[float(level)]
        assert lower.tobytes() == columns["yhat_lower"].tobytes()
        assert upper.tobytes() == columns["yhat_upper"].tobytes()
        plain = calibrated.forecast(
            parse_request({**CALIBRATED_SERIES, "interval_width": width}), flat_fit
        )
        assert all(plain[k].tobytes() == columns[k].tobytes() for k in VALUE_KEYS)
