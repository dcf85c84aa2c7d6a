"""POST /batch, and POST /backtest with `series`, through the model app in-process with the
mock engine: each series answered exactly as its single request would be (the same bytes, the
same cache entries, the same errors with their status), the batch's own limits, auth."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import numpy as np
import orjson
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from tests.model.test_api import GOOD, KEY, CountingEngine, assert_error, settings
from tests.model.test_backtest_api import SERIES
from tickercast import __version__
from tickercast.contract import ForecastRequest, parse_request
from tickercast.model import compute
from tickercast.model.api import create_app
from tickercast.model.engine import MockEngine, ProphetEngine
from tickercast.model.prophet_seam.forecasting import FitTimeout


def item(sid: str, scale: float = 1.0, **fields: Any) -> dict[str, Any]:
    return {"id": sid, "ds": GOOD["ds"], "y": [v * scale for v in GOOD["y"]], **fields}


def batch(client: TestClient, payload: object, path: str = "/batch") -> httpx.Response:
    return client.post(path, content=orjson.dumps(payload))


def single(client: TestClient, series: dict[str, Any], **shared: Any) -> httpx.Response:
    body = {"key": KEY, **shared, **{k: v for k, v in series.items() if k != "id"}}
    return client.post("/", content=orjson.dumps(body))


def test_each_answer_is_the_single_answers_bytes_and_bad_series_stay_alone() -> None:
    good = [item("AAPL"), item("MSFT", 2.0, periods=5), item("SPY", 3.0, freq="D")]
    bad = [
        item("BAD", y=[1, "x", 3]),
        item("SHORT", periods=0),
        item("METHOD", method="calibrated"),
    ]
    shared = {"periods": 3, "interval_width": 0.9, "include_history": True}
    with TestClient(create_app(settings())) as client:
        resp = batch(client, {"key": KEY, **shared, "series": [good[0], *bad, *good[1:]]})
        singles = {s["id"]: single(client, s, **shared) for s in good}
    assert resp.status_code == 200, resp.text
    assert resp.headers["x-model-version"] == f"mock/{__version__}"
    data = resp.json()
    assert list(data["forecasts"]) == ["AAPL", "MSFT", "SPY"]
    for sid, answer in singles.items():
        assert answer.status_code == 200
        assert data["forecasts"][sid] == answer.json()
        assert orjson.dumps(sid) + b":" + answer.content in resp.content  # spliced as is
    assert len(data["forecasts"]["MSFT"]["yhat"]) == 3 + 5  # the item's own periods
    assert data["errors"] == {
        "BAD": {"message": "invalid input: y[1] is not a number", "status": 400},
        "SHORT": {"message": "invalid input: periods must be a positive integer", "status": 400},
        "METHOD": {
            "message": "invalid input: series 'METHOD' sets 'method'; an item may set only "
            "ds, y, periods, freq",
            "status": 400,
        },
    }


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"key": KEY}, "invalid input: series is missing"),
        ({"key": KEY, "series": {}}, "invalid input: series must be a list"),
        ({"key": KEY, "series": []}, "invalid input: series is empty"),
        ({"key": KEY, "series": [item("A"), 3]}, "invalid input: series[1] must be an object"),
        (
            {"key": KEY, "series": [item("A"), {"ds": [], "y": []}]},
            "invalid input: series[1].id must be a non-empty string",
        ),
        (
            {"key": KEY, "series": [item("")]},
            "invalid input: series[0].id must be a non-empty string",
        ),
        (
            {"key": KEY, "series": [item("A"), item("B"), item("A", 2.0)]},
            "invalid input: series id 'A' is repeated",
        ),
        (
            {"key": KEY, "ds": GOOD["ds"], "series": [item("A")]},
            "invalid input: ds belongs in each item of series, not beside it",
        ),
    ],
)
def test_a_batch_that_cannot_be_read_is_one_400(payload: object, message: str) -> None:
    engine = CountingEngine()
    with TestClient(create_app(settings(), engine=engine)) as client:
        assert_error(batch(client, payload), 400, message)
    assert engine.calls == 0


def test_the_batch_limits() -> None:
    limits = settings(
        model_batch_max_series=3,
        model_batch_max_rows=9,
        model_batch_max_bytes=2_000,
        model_max_body_bytes=1_000,
    )
    engine = CountingEngine()
    with TestClient(create_app(limits, engine=engine)) as client:
        four = [item(str(i), i + 1) for i in range(4)]
        assert_error(
            batch(client, {"key": KEY, "series": four}),
            400,
            "invalid input: 4 series is over the batch limit of 3",
        )
        many_rows = [item("A"), {**item("B"), "ds": GOOD["ds"] * 3, "y": GOOD["y"] * 3}]
        assert_error(
            batch(client, {"key": KEY, "series": many_rows}),
            400,
            "invalid input: 12 rows in all is over the batch limit of 9",
        )
        padded = {"key": KEY, "series": [item("A")], "pad": "x" * 2_000}
        assert_error(batch(client, padded), 413, "request too large")
        assert_error(batch(client, padded, "/backtest"), 413, "request too large")
        assert engine.calls == 0
        # Between the two limits: a batch is read, a single request is not.
        fits = {"key": KEY, "series": [item("A")], "pad": "x" * 1_000}
        assert batch(client, fits).status_code == 200
        assert_error(single(client, {**item("A"), "pad": "x" * 1_000}), 413, "request too large")
        one_backtest = {"key": KEY, **item("A"), "pad": "x" * 1_000}
        assert_error(batch(client, one_backtest, "/backtest"), 413, "request too large")


def test_the_compute_limit_running_out_mid_batch_is_429_for_the_rest() -> None:
    engine = CountingEngine()
    # What each series' fit costs (model/compute.py), three times over: room for three fits.
    cost = compute.units(compute.fit_cost_ms(parse_request({"ds": GOOD["ds"], "y": GOOD["y"]})))
    limit = f"{3 * cost * compute.UNIT_MS}/minute"
    with TestClient(create_app(settings(model_rate_limit=limit), engine=engine)) as client:
        assert single(client, item("A")).status_code == 200  # one computed before
        series = [item(sid, i + 1.0) for i, sid in enumerate("ABCDE")]  # A is cached
        data = batch(client, {"key": KEY, "series": series}).json()
        assert engine.calls == 3
        assert "A" in data["forecasts"] and len(data["forecasts"]) == 3
        assert len(data["errors"]) == 2
        for error in data["errors"].values():
            assert error.keys() == {"message", "status", "retry_after"}
            assert (error["message"], error["status"]) == ("rate limit exceeded", 429)
            assert 1 <= error["retry_after"] <= 61
        other = batch(client, {"key": "other", "series": [series[-1]]}).json()
        assert other["errors"] == {} and list(other["forecasts"]) == ["E"]  # another key


def test_a_batch_and_single_requests_share_cache_entries() -> None:
    engine = CountingEngine()
    with TestClient(create_app(settings(), engine=engine)) as client:
        first = single(client, item("A"), periods=4)
        resp = batch(client, {"key": KEY, "periods": 4, "series": [item("A"), item("B", 2.0)]})
        assert engine.calls == 2  # A came from the cache
        assert orjson.dumps("A") + b":" + first.content in resp.content
        after = single(client, item("B", 2.0), periods=4)
        assert engine.calls == 2  # B too, the other way round
        assert resp.json()["forecasts"]["B"] == after.json()
        again = batch(client, {"key": KEY, "periods": 4, "series": [item("B", 2.0), item("A")]})
        assert engine.calls == 2
        assert again.json()["forecasts"] == resp.json()["forecasts"]


def test_auth_and_the_request_rate_are_those_of_post() -> None:
    app = create_app(settings(model_request_rate_limit="2/minute"))
    series = [item(str(i), i + 1.0) for i in range(5)]
    with TestClient(app) as client:
        assert_error(batch(client, {"series": series}), 401, "no key submitted")
        assert_error(batch(client, {"key": "nope", "series": series}), 403, "invalid key")
        assert batch(client, {"key": KEY, "series": series}).status_code == 200  # counts once
        assert batch(client, {"key": KEY, "series": series}).status_code == 200
        assert_error(batch(client, {"key": KEY, "series": series}), 429, "rate limit exceeded")


def test_a_fit_timeout_is_503_for_its_series_alone() -> None:
    class SlowOnTens(MockEngine):
        def forecast(self, req: ForecastRequest) -> dict[str, np.ndarray]:
            if req.y[0] == 10:
                raise FitTimeout("stopped")
            return super().forecast(req)

    with TestClient(create_app(settings(), engine=SlowOnTens())) as client:
        data = batch(client, {"key": KEY, "series": [item("A"), item("B", 10.0)]}).json()
    assert list(data["forecasts"]) == ["A"]
    assert data["errors"] == {"B": {"message": "fit timed out", "status": 503, "retry_after": 5}}


def test_a_batch_runs_on_every_fit_slot_at_once() -> None:
    both_running = threading.Barrier(2, timeout=5)

    class MeetingEngine(MockEngine):
        def forecast(self, req: ForecastRequest) -> dict[str, np.ndarray]:
            both_running.wait()  # breaks (an error for the series) unless two fit at once
            return super().forecast(req)

    app = create_app(settings(model_fit_slots=2, model_cache_ttl=0), engine=MeetingEngine())
    with TestClient(app) as client:
        data = batch(client, {"key": KEY, "series": [item(str(i), i + 1.0) for i in range(4)]})
    assert data.json()["errors"] == {}


def test_backtest_with_series_is_one_backtest_per_series() -> None:
    rows = {"ds": SERIES["ds"], "y": SERIES["y"]}
    other = {"ds": SERIES["ds"], "y": [v * 2 for v in SERIES["y"]]}
    shared = {"key": KEY, "horizon": 10, "cutoffs": 3}
    with TestClient(create_app(settings())) as client:
        resp = batch(
            client,
            {
                **shared,
                "series": [
                    {"id": "A", **rows},
                    {"id": "B", **other, "horizon": 5},
                    {"id": "C", **rows, "cutoffs": 2},
                ],
            },
            "/backtest",
        )
        one = batch(client, {**shared, **rows}, "/backtest")
        five = batch(client, {**shared, **other, "horizon": 5}, "/backtest")
    assert resp.status_code == 200, resp.text
    data = resp.json()
    assert list(data) == ["backtests", "errors"]
    assert orjson.dumps("A") + b":" + one.content in resp.content
    assert data["backtests"]["B"] == five.json() and data["backtests"]["B"]["horizon"] == 5
    assert data["errors"] == {
        "C": {
            "message": "invalid input: series 'C' sets 'cutoffs'; an item may set only "
            "ds, y, horizon, freq",
            "status": 400,
        }
    }


def test_openapi_describes_batch() -> None:
    with TestClient(create_app(settings())) as client:
        spec = client.get("/openapi.json").json()
    post = spec["paths"]["/batch"]["post"]
    request = post["requestBody"]["content"]["application/json"]["schema"]
    assert request["required"] == ["key", "series"]
    assert "MODEL_BATCH_MAX_BYTES" in request["properties"]["series"]["description"]
    assert {"200", "400", "413", "429"} <= set(post["responses"])


@pytest.mark.slow
def test_with_prophet_each_answer_is_the_single_answer_byte_for_byte() -> None:
    days = [str(d.date()) for d in pd.bdate_range("2021-01-04", periods=150)]
    rng = np.random.default_rng(26)
    series = [
        {"id": sid, "ds": days, "y": (100 + np.cumsum(rng.normal(0, 1, 150))).tolist()}
        for sid in ("A", "B", "C")
    ]
    series[1]["periods"] = 5
    series[2]["freq"] = "D"
    engine = ProphetEngine()
    for shared in ({"periods": 10}, {"periods": 10, "method": "calibrated", "interval_width": 0.9}):
        # An app per event loop, as a worker has: the in-process rate limits' locks are bound
        # to the loop that first waited on them.
        app = create_app(settings(model_cache_ttl=0), engine=engine)
        with TestClient(app) as client:
            resp = batch(client, {"key": KEY, **shared, "series": series})
            singles = {s["id"]: single(client, s, **shared) for s in series}
        assert resp.status_code == 200, resp.text
        data = resp.json()
        assert data["errors"] == {}
        for sid, answer in singles.items():
            assert answer.status_code == 200, answer.text
            assert data["forecasts"][sid] == answer.json()
            assert orjson.dumps(sid) + b":" + answer.content in resp.content
            assert resp.headers["x-model-version"] == answer.headers["x-model-version"]
