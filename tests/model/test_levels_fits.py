"""`levels` with real fits: the calibrated method's levels are its band where they meet the
interval width, Prophet's are percentiles of its own samples (the same bytes without levels),
both nested at every row; a backtest of the calibrated method scores them."""

from __future__ import annotations

import numpy as np
import orjson
import pytest

from tests.model.test_levels import DECILE_LEVELS, SERIES, assert_nested
from tickercast.contract import VALUE_KEYS, level_keys, parse_request
from tickercast.model.engine import ProphetEngine

pytestmark = pytest.mark.slow

CALIBRATED = {**SERIES, "method": "calibrated", "periods": 10}


def answer(engine: ProphetEngine, payload: dict[str, object]) -> dict[str, dict[str, float]]:
    result: dict[str, dict[str, float]] = orjson.loads(engine.run(parse_request(payload)))
    return result


@pytest.fixture(scope="module")
def engine() -> ProphetEngine:
    return ProphetEngine()


def test_calibrated_levels_meet_the_band_and_hold_the_median(engine: ProphetEngine) -> None:
    plain = answer(engine, CALIBRATED)
    body = answer(engine, {**CALIBRATED, "levels": [*DECILE_LEVELS[:-1], 99.5]})
    assert {key: body[key] for key in plain} == plain  # the 19 keys unchanged
    assert body["yhat_lower_80"] == plain["yhat_lower"]  # bit for bit: 80 is the width
    assert body["yhat_upper_80"] == plain["yhat_upper"]
    assert_nested(body, [*DECILE_LEVELS[:-1], 99.5])
    for row, median in body["yhat"].items():
        assert body["yhat_lower_10"][row] <= median <= body["yhat_upper_10"][row]
    # a narrow level is narrow: the 10% band is a small part of the 95% one
    row = list(body["yhat"])[-1]
    narrow = body["yhat_upper_10"][row] - body["yhat_lower_10"][row]
    wide = body["yhat_upper_95"][row] - body["yhat_lower_95"][row]
    assert 0 < narrow < wide / 5


@pytest.mark.parametrize("fit_engine", ["fast", "cmdstan"])
def test_prophet_levels_are_percentiles_of_its_samples(
    engine: ProphetEngine, fit_engine: str
) -> None:
    payload = {**SERIES, "method": "prophet", "engine": fit_engine, "interval_width": 0.95}
    plain_bytes = engine.run(parse_request(payload))
    levels = [50, 95, 99.8, 99.9, 99.99]
    with_levels = engine.run(parse_request({**payload, "levels": levels}))
    body = orjson.loads(with_levels)
    plain = orjson.loads(plain_bytes)
    assert plain_bytes == engine.run(parse_request(payload))  # without levels: same bytes
    assert {key: body[key] for key in plain} == plain
    assert list(body)[1 : len(VALUE_KEYS) + 1] == list(VALUE_KEYS)
    assert (body["yhat_lower_95"], body["yhat_upper_95"]) == (
        plain["yhat_lower"],
        plain["yhat_upper"],
    )
    assert_nested(body, levels)
    # 1,000 draws: the extreme levels fall between the two most extreme draws, close together
    for row in body["yhat"]:
        lo_998, hi_998 = (body[k][row] for k in level_keys(99.8))
        lo_9999, hi_9999 = (body[k][row] for k in level_keys(99.99))
        assert lo_9999 <= lo_998 and hi_998 <= hi_9999


def test_calibrated_backtest_scores_levels_on_a_real_series() -> None:
    from tickercast.contract import parse_backtest_request
    from tickercast.model import backtesting

    bt = parse_backtest_request(
        {**SERIES, "method": "calibrated", "horizon": 5, "cutoffs": 5, "levels": [20, 40, 60, 80]}
    )
    engine = ProphetEngine()
    ends = backtesting.origins(bt.series.n, bt.horizon, bt.cutoffs, 120)
    from tickercast.model.pipeline import _fold_forecast

    folds = [_fold_forecast(engine.run(bt.fold(end)), bt.horizon, bt.series.levels) for end in ends]
    s = bt.series
    report = backtesting.report(
        s.method, s.ds, s.y, ends, 5, s.freq, 0.8, [f for f, _ in folds], [b for _, b in folds]
    )
    overall = report["scores"]["calibrated"]["overall"]
    assert sum(overall["pit"]) == overall["count"] == 25
    by_level = {item["level"]: item for item in overall["by_level"]}
    assert by_level[80]["coverage"] == overall["coverage"]  # the band is the 80% level
    assert np.isfinite(overall["wis"]) and 0.3 < overall["wis_ratio"] < 3
