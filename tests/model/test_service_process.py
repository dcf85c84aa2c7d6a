"""The real model service as separate processes on free ports, called as the original clients
call it: `requests.post(url, data=json.dumps(body))`, no Content-Type, dates as str(datetime)
with microseconds, prices as strings, the answer read back with pandas."""

from __future__ import annotations

import json
import random
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
import requests

from tests.conftest import MODEL_KEYS
from tests.support.prices import adj_close, request_body
from tests.support.procs import ServiceProcess, start_model_service
from tickercast.contract import RESPONSE_KEYS

pytestmark = pytest.mark.slow
KEY = MODEL_KEYS[0]


def original_request(url: str, key: str | None, periods: int = 100) -> requests.Response:
    """The original notebook's client, unchanged in how it calls."""

    def gen_day(i: int) -> str:
        return str(datetime.now() + timedelta(days=i))

    data: dict[str, object] = {
        "ds": [gen_day(i) for i in range(100)],
        "y": [random.random() for _ in range(100)],
        "periods": periods,
    }
    if key is not None:
        data["key"] = key
    return requests.post(url, data=json.dumps(data), timeout=60)


@pytest.fixture(params=["prophet", "mock"])
def service(request: pytest.FixtureRequest) -> ServiceProcess:
    name = "model_service" if request.param == "prophet" else "mock_service"
    return request.getfixturevalue(name)


def test_original_client_unchanged(service: ServiceProcess) -> None:
    assert original_request(service.url, None).text == '{"message":"no key submitted"}'
    assert original_request(service.url, "random").status_code == 403
    for key in MODEL_KEYS:  # either of the rotated keys
        r = original_request(service.url, key, periods=10)
        assert r.ok, r.text
        frame = pd.DataFrame(json.loads(r.text))
        assert list(frame.columns) == list(RESPONSE_KEYS)
        assert list(frame.index) == [str(i) for i in range(100, 110)]
        dates = pd.to_datetime(frame["ds"])
        assert dates.is_monotonic_increasing and dates.dt.second.nunique() == 1
        assert (frame["yhat_lower"] <= frame["yhat"]).all()
        assert (frame["yhat"] <= frame["yhat_upper"]).all()


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        ("not json at all", 400, "invalid data format"),
        (json.dumps([1, 2]), 400, "invalid data format"),
        (json.dumps({"ds": ["2020-01-01"], "y": [1]}), 401, "no key submitted"),
        (json.dumps({"key": "wrong", "ds": [], "y": []}), 403, "invalid key"),
        (
            json.dumps({"key": KEY, "ds": ["2020-01-01", "2020-01-02"], "y": [1]}),
            400,
            "invalid input: ds has 2 values but y has 1",
        ),
        (
            json.dumps({"key": KEY, "ds": ["2020-01-01", "Tuesday"], "y": [1, 2]}),
            400,
            "invalid input: ds[1] is not a date: 'Tuesday'",
        ),
        (
            json.dumps({"key": KEY, "ds": ["2020-01-01", "2020-01-02"], "y": ["1", "two"]}),
            400,
            "invalid input: y[1] is not a number",
        ),
        (
            json.dumps({"key": KEY, "ds": ["2020-01-01", "2020-01-02"], "y": [1, None]}),
            400,
            "invalid input: fewer than 2 usable rows (y has 1 non-null values)",
        ),
        (
            json.dumps(
                {"key": KEY, "ds": ["2020-01-01", "2020-01-02"], "y": [1, 2], "periods": -1}
            ),
            400,
            "invalid input: periods must be a positive integer",
        ),
        (
            json.dumps(
                {"key": KEY, "ds": ["2020-01-01", "2020-01-02"], "y": [1, 2], "periods": 10**6}
            ),
            400,
            "invalid input: periods must be at most 3650",
        ),
        ("{" + " " * 4_000_001 + "}", 413, "request too large"),
    ],
)
def test_errors_over_http_then_keeps_serving(
    service: ServiceProcess, payload: str, status: int, message: str
) -> None:
    r = requests.post(service.url, data=payload, timeout=30)
    assert (r.status_code, r.json()) == (status, {"message": message})
    assert KEY not in r.text
    assert original_request(service.url, KEY, periods=3).ok


def test_yhat_is_prophets_own_on_real_prices(model_service: ServiceProcess) -> None:
    """With `engine: "cmdstan"`, to the digit; by default (the fast fit), within 0.5% of the
    series' scale on the median row."""
    from prophet import Prophet

    body = request_body("AAPL", 300, KEY, periods=20, freq="XNYS", include_history=True)
    r = requests.post(model_service.url, data=json.dumps({**body, "engine": "cmdstan"}), timeout=60)
    default = requests.post(model_service.url, data=json.dumps(body), timeout=60)
    assert r.ok, r.text
    ours = pd.DataFrame(r.json())
    ours["ds"] = pd.to_datetime(ours["ds"])

    history = adj_close("AAPL", 300)
    model = Prophet()
    model.fit(history)
    theirs = model.predict(ours[["ds"]])
    np.testing.assert_allclose(ours["yhat"], theirs["yhat"], rtol=1e-9)
    gap = np.abs(pd.DataFrame(default.json())["yhat"].to_numpy() - theirs["yhat"].to_numpy())
    assert np.median(gap) <= 0.005 * model.y_scale
    np.testing.assert_allclose(ours["trend"], theirs["trend"], rtol=1e-9)
    np.testing.assert_allclose(ours["weekly"], theirs["weekly"], rtol=1e-9, atol=1e-12)
    seasonal = theirs["additive_terms"]
    np.testing.assert_allclose(ours["seasonal"], seasonal, rtol=1e-9, atol=1e-12)
    # Under two years of data: no yearly seasonality, so it is present and 0.
    assert (ours["yearly"] == 0).all()
    np.testing.assert_allclose(ours["seasonalities"], ours["weekly"] + ours["yearly"], atol=1e-9)
    # The band holds most of the history (80% interval).
    inside = (
        (history["y"].values >= ours["yhat_lower"][:300])
        & (history["y"].values <= ours["yhat_upper"][:300])
    ).mean()
    assert 0.6 < inside < 0.97


def test_future_dates_are_nyse_sessions(model_service: ServiceProcess) -> None:
    import exchange_calendars as xcals

    body = request_body("IBM", 120, KEY, periods=30, freq="XNYS")  # ends 2013-03-01
    r = requests.post(model_service.url, data=json.dumps(body), timeout=60)
    dates = pd.to_datetime(pd.Series(r.json()["ds"]))
    sessions = xcals.get_calendar("XNYS", start="2013-03-01", end="2013-12-31").sessions
    expected = sessions[sessions > "2013-03-01"][:30].tz_localize(None)
    assert list(dates) == list(expected)
    assert pd.Timestamp("2013-03-29") not in set(dates)  # Good Friday


def test_same_request_gives_same_bytes_across_workers(model_service: ServiceProcess) -> None:
    """Cache is off in this service: each answer is computed, by whichever worker takes it."""
    body = json.dumps(request_body("MSFT", 250, KEY, periods=30))
    other = json.dumps(request_body("GOOG", 250, KEY, periods=30))

    def call(payload: str) -> tuple[str, bytes]:
        r = requests.post(model_service.url, data=payload, timeout=120)
        assert r.ok, r.text
        return r.headers["x-worker"], r.content

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(call, [body, other] * 4))
    mine = [content for i, (_, content) in enumerate(results) if i % 2 == 0]
    theirs = [content for i, (_, content) in enumerate(results) if i % 2 == 1]
    assert len(set(mine)) == 1 and len(set(theirs)) == 1 and mine[0] != theirs[0]
    assert len({worker for worker, _ in results}) == 2, "both workers answered"


def test_two_replicas_give_the_same_bytes(model_service: ServiceProcess) -> None:
    body = json.dumps(request_body("AAPL", 200, KEY, periods=15, interval_width=0.9))
    with start_model_service(keys=MODEL_KEYS, workers=1) as replica:
        a = requests.post(model_service.url, data=body, timeout=60)
        b = requests.post(replica.url, data=body, timeout=60)
    assert a.ok and a.content == b.content


def test_health_ready_metrics(model_service: ServiceProcess) -> None:
    assert requests.get(f"{model_service.url}/healthz", timeout=5).json() == {"status": "ok"}
    assert requests.get(f"{model_service.url}/readyz", timeout=5).json() == {"status": "ready"}
    original_request(model_service.url, KEY, periods=2)
    text = requests.get(f"{model_service.url}/metrics", timeout=5).text
    assert 'tickercast_model_http_requests_total{route="/",status="200"}' in text
    assert "tickercast_model_request_seconds_bucket" in text
    spec = requests.get(f"{model_service.url}/openapi.json", timeout=5).json()
    assert "/" in spec["paths"]


def test_keys_never_reach_the_log(
    model_service: ServiceProcess, mock_service: ServiceProcess
) -> None:
    for svc in (model_service, mock_service):
        original_request(svc.url, "a-wrong-key-777", periods=2)
        log = svc.log()
        assert "a-wrong-key-777" not in log
        assert all(key not in log for key in MODEL_KEYS)
