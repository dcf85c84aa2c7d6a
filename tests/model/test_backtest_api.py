"""POST /backtest and `method` through the model app in-process, with the mock engine: the
shape both sides agreed, the same auth and errors as POST /, the cache, the fit slots."""

from __future__ import annotations

import threading

import numpy as np
import orjson
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from tests.model.test_api import KEY, CountingEngine, assert_error, settings
from tickercast.contract import CALIBRATED_MIN_ROWS, RESPONSE_KEYS, ForecastRequest
from tickercast.model.api import create_app
from tickercast.model.engine import Method, MockEngine
from tickercast.runtime.cache import bytes_lru

DAYS = [str(d.date()) for d in pd.bdate_range("2022-01-03", periods=160)]
SERIES = {"key": KEY, "ds": DAYS, "y": [100 + (i % 7) - i * 0.1 for i in range(160)]}
METRIC_KEYS = [
    "mae",
    "rmse",
    "mape",
    "smape",
    "relative_mae",
    "coverage",
    "band_width",
    "direction_hit_rate",
    "count",
    "interval_score",
    "interval_score_ratio",
]


def backtest(client: TestClient, payload: object) -> object:
    return client.post("/backtest", content=orjson.dumps(payload))


def test_mock_backtest_has_the_agreed_shape() -> None:
    with TestClient(create_app(settings())) as client:
        resp = backtest(client, {**SERIES, "horizon": 10, "cutoffs": 4, "method": "calibrated"})
    assert resp.status_code == 200, resp.text
    data = resp.json()
    assert list(data) == ["method", "horizon", "interval_width", "folds", "scores", "verdict"]
    assert (data["method"], data["horizon"], data["interval_width"]) == ("calibrated", 10, 0.8)
    assert len(data["folds"]) == 4
    assert data["folds"][-1] == {
        "train_end": DAYS[-11],
        "test_start": DAYS[-10],
        "test_end": DAYS[-1],
    }
    assert list(data["scores"]) == ["calibrated", "random_walk", "random_walk_drift"]
    for scores in data["scores"].values():
        assert list(scores["overall"]) == METRIC_KEYS
        assert len(scores["by_step"]) == 10
        assert scores["overall"]["count"] == 40
    walk = data["scores"]["random_walk"]
    assert walk["overall"]["relative_mae"] == 1
    assert all(step["relative_mae"] == 1 for step in walk["by_step"])
    assert walk["overall"]["interval_score_ratio"] == 1
    assert data["verdict"].startswith("Over 4 past 10-weekday periods, the calibrated forecast")


def test_backtest_defaults_and_unsorted_input() -> None:
    shuffled = list(zip(SERIES["ds"], SERIES["y"], strict=True))[::-1]
    body = {"key": KEY, "ds": [d for d, _ in shuffled], "y": [v for _, v in shuffled]}
    with TestClient(create_app(settings())) as client:
        unsorted = backtest(client, body).json()
        ordered = backtest(client, {k: SERIES[k] for k in ("key", "ds", "y")}).json()
    assert unsorted == ordered
    assert (ordered["method"], ordered["horizon"], len(ordered["folds"])) == ("prophet", 20, 5)
    assert ordered["folds"][-1]["test_end"] == DAYS[-1]


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"key": None}, 401, "no key submitted"),
        ({"key": "nope"}, 403, "invalid key"),
        (
            {"method": "arima"},
            400,
            "invalid input: unknown method 'arima'; use 'prophet' or 'calibrated'",
        ),
        ({"horizon": 0}, 400, "invalid input: horizon must be a positive integer"),
        ({"cutoffs": "5"}, 400, "invalid input: cutoffs must be a positive integer"),
        ({"cutoffs": 51}, 400, "invalid input: cutoffs must be at most 50"),
        (
            {"horizon": 140, "cutoffs": 20},
            400,
            "invalid input: a backtest of 20 cutoffs over 140 steps with method 'prophet' "
            "needs at least 162 rows (got 160)",
        ),
        (
            {"horizon": 30, "cutoffs": 20, "method": "calibrated"},
            400,
            f"invalid input: a backtest of 20 cutoffs over 30 steps with method 'calibrated' "
            f"needs at least {CALIBRATED_MIN_ROWS + 19 + 30} rows (got 160)",
        ),
        ({"y": SERIES["y"][:-1]}, 400, "invalid input: ds has 160 values but y has 159"),
    ],
)
def test_backtest_errors_are_those_of_post(
    change: dict[str, object], status: int, message: str
) -> None:
    body = {k: v for k, v in {**SERIES, **change}.items() if v is not None}
    with TestClient(create_app(settings())) as client:
        assert_error(backtest(client, body), status, message)
        assert backtest(client, SERIES).status_code == 200


def test_computed_folds_count_toward_the_compute_limit_with_forecasts() -> None:
    """A fold is a forecast: each one computed costs its CPU (here under 10 ms: one hundredth
    of a second each), cached ones nothing."""
    body = {**SERIES, "horizon": 5, "cutoffs": 3}
    with TestClient(create_app(settings(model_rate_limit="40/minute"))) as client:
        assert backtest(client, body).status_code == 200  # 3 folds computed: 30 ms of 40
        assert backtest(client, body).status_code == 200  # its answer cached
        assert backtest(client, {**body, "cutoffs": 2}).status_code == 200  # folds cached
        assert client.post("/", content=orjson.dumps({**SERIES, "periods": 2})).status_code == 200
        assert_error(backtest(client, {**body, "horizon": 6}), 429, "rate limit exceeded")


def test_a_backtest_is_one_request_toward_the_request_limit() -> None:
    body = {**SERIES, "horizon": 5, "cutoffs": 3}
    with TestClient(create_app(settings(model_request_rate_limit="2/minute"))) as client:
        assert backtest(client, body).status_code == 200
        assert backtest(client, {**body, "horizon": 6}).status_code == 200
        assert_error(backtest(client, body), 429, "rate limit exceeded")


def test_method_on_post() -> None:
    short = {"key": KEY, "ds": DAYS[:10], "y": list(range(10))}
    with TestClient(create_app(settings())) as client:
        resp = client.post("/", content=orjson.dumps({**SERIES, "method": "calibrated"}))
        assert resp.status_code == 200 and list(resp.json()) == list(RESPONSE_KEYS)
        assert_error(
            client.post("/", content=orjson.dumps({**SERIES, "method": 3})),
            400,
            "invalid input: unknown method 3; use 'prophet' or 'calibrated'",
        )
        assert_error(
            client.post("/", content=orjson.dumps({**short, "method": "calibrated"})),
            400,
            f"invalid input: the calibrated forecast needs at least {CALIBRATED_MIN_ROWS} "
            "values (y has 10)",
        )
        assert client.post("/", content=orjson.dumps(short)).status_code == 200  # prophet


def test_backtest_folds_share_the_cache_with_forecasts_and_the_answer_is_cached() -> None:
    engine = CountingEngine()
    app = create_app(settings(), engine=engine, cache=bytes_lru())
    # The last fold is the forecast of the first 150 rows, 10 steps ahead.
    last_fold = {"key": KEY, "ds": DAYS[:150], "y": SERIES["y"][:150], "periods": 10}
    with TestClient(app) as client:
        assert client.post("/", content=orjson.dumps(last_fold)).status_code == 200
        assert engine.calls == 1
        first = backtest(client, {**SERIES, "horizon": 10, "cutoffs": 3})
        assert engine.calls == 1 + 2  # the last fold came from the cache
        again = backtest(client, {**SERIES, "horizon": 10, "cutoffs": 3})
        assert engine.calls == 3 and first.content == again.content


def test_backtest_folds_run_on_every_fit_slot_at_once() -> None:
    both_running = threading.Barrier(2, timeout=5)

    class MeetingEngine(MockEngine):
        def forecast(self, req: ForecastRequest) -> dict[str, np.ndarray]:
            both_running.wait()  # breaks (and fails the backtest) unless two folds run at once
            return super().forecast(req)

    app = create_app(settings(model_fit_slots=2, model_cache_ttl=0), engine=MeetingEngine())
    with TestClient(app) as client:
        resp = backtest(client, {**SERIES, "horizon": 5, "cutoffs": 4})
    assert resp.status_code == 200, resp.text


def test_the_method_is_chosen_once_per_request_and_once_for_all_folds() -> None:
    chosen: list[tuple[str, int]] = []

    class ChoosingEngine(MockEngine):
        def method(self, req: ForecastRequest) -> Method:
            chosen.append((req.method, req.n))
            return super().method(req)

    app = create_app(settings(model_cache_ttl=0), engine=ChoosingEngine())
    with TestClient(app) as client:
        resp = backtest(client, {**SERIES, "horizon": 5, "cutoffs": 4, "method": "calibrated"})
        assert resp.status_code == 200, resp.text
        assert chosen == [("calibrated", 160)]  # the series', not one per fold
        assert client.post("/", content=orjson.dumps(SERIES)).status_code == 200
    assert chosen == [("calibrated", 160), ("prophet", 160)]


def test_openapi_describes_backtest_and_method() -> None:
    with TestClient(create_app(settings())) as client:
        spec = client.get("/openapi.json").json()
    post = spec["paths"]["/backtest"]["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    assert {"horizon", "cutoffs", "method"} <= set(body["properties"])
    assert body["properties"]["method"]["enum"] == ["prophet", "calibrated"]
    assert {"400", "401", "403", "413", "429", "503"} <= set(post["responses"])
    forecast = spec["paths"]["/"]["post"]["requestBody"]["content"]["application/json"]
    assert "method" in forecast["schema"]["properties"]
