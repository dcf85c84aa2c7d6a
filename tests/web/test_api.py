"""The JSON API: shapes, NYSE future dates, downloads, posted series, and one error shape on
every error path."""

from __future__ import annotations

import exchange_calendars as xcals
import pandas as pd
import pytest

from tests.web import fakes
from tests.web.conftest import MakeClient


def test_forecast_of_a_ticker(client, fake_model) -> None:
    resp = client.get("/api/forecast/ACME?periods=7&window=6m")
    assert resp.status_code == 200
    data = resp.json()
    assert data["ticker"] == "ACME"
    assert data["source"] == "fake"
    assert data["freq"] == "XNYS"
    assert len(data["history"]) == 126
    assert set(data["history"][0]) == {"ds", "close"}
    assert len(data["forecast"]) == 7
    row = data["forecast"][0]
    assert {"ds", "yhat", "yhat_lower", "yhat_upper", "trend", "weekly", "yearly"} <= set(row)
    assert row["yhat_lower"] <= row["yhat"] <= row["yhat_upper"]
    (sent,) = fake_model.requests
    assert sent["freq"] == "XNYS"
    assert sent["periods"] == 7
    assert sent["ds"] == [r["ds"] for r in data["history"]]


def test_history_is_adjusted_close(client) -> None:
    data = client.get("/api/forecast/ACME?periods=1&window=3m").json()
    frame = fakes.providers()["fake"].frames["ACME"]
    assert data["history"][-1]["close"] == pytest.approx(frame["adj_close"].iloc[-1])


def test_future_dates_are_nyse_sessions(client) -> None:
    data = client.get("/api/forecast/ACME?periods=40").json()
    last = pd.Timestamp(data["history"][-1]["ds"])
    xnys = xcals.get_calendar("XNYS", start="2019-01-01", end="2030-12-31")
    expected = xnys.sessions[xnys.sessions > last][:40]
    assert [r["ds"] for r in data["forecast"]] == [d.strftime("%Y-%m-%d") for d in expected]


def test_default_horizon_and_window(client) -> None:
    data = client.get("/api/forecast/acme").json()
    assert (data["periods"], data["window"]) == (60, "2y")
    assert len(data["forecast"]) == 60
    assert len(data["history"]) == 504


def test_source_picks_the_provider(client) -> None:
    assert client.get("/api/forecast/CORE?periods=2&source=other").json()["source"] == "other"
    resp = client.get("/api/forecast/CORE?periods=2&source=fake")
    assert resp.status_code == 404


def test_csv_download(client) -> None:
    resp = client.get("/api/forecast/ACME?periods=5&format=csv")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/csv")
    assert 'filename="ACME-forecast-5.csv"' in resp.headers["content-disposition"]
    lines = resp.text.strip().splitlines()
    assert lines[0] == "ds,yhat,yhat_lower,yhat_upper,trend,weekly,yearly"
    assert len(lines) == 6


def test_tickers(client) -> None:
    listed = {(t["ticker"], t["source"]) for t in client.get("/api/tickers").json()["tickers"]}
    assert listed == {("ACME", "fake"), ("BOLT", "fake"), ("CORE", "other")}


def test_backtest_of_a_ticker(client, fake_model) -> None:
    data = client.get("/api/backtest/ACME?periods=20&window=1y").json()
    assert data["holdout"] == 20
    assert len(data["folds"]) == 3
    assert [len(r["y"]) for r in fake_model.requests] == [232, 212, 192]
    assert all(r["periods"] == 20 for r in fake_model.requests)
    assert data["summary"].startswith("Over 3 past 20-session periods")
    assert 0 <= data["coverage"] <= 1


def test_posted_series_forecast(client, fake_model) -> None:
    ds = [d.strftime("%Y-%m-%d") for d in fakes.sessions(50)]
    body = {"name": "mine", "ds": ds, "y": [10.0 + i for i in range(50)], "periods": 4}
    data = client.post("/api/forecast", json=body).json()
    assert data["ticker"] == "mine"
    assert len(data["forecast"]) == 4
    assert fake_model.requests[0]["freq"] == "XNYS"  # weekdays only: NYSE sessions


def test_posted_calendar_daily_series_leaves_freq_to_the_model(client, fake_model) -> None:
    ds = [d.strftime("%Y-%m-%d") for d in pd.date_range("2024-01-01", periods=40)]
    client.post("/api/forecast", json={"ds": ds, "y": list(range(40)), "periods": 3})
    assert "freq" not in fake_model.requests[0]


def test_posted_series_backtest(client) -> None:
    ds = [d.strftime("%Y-%m-%d") for d in fakes.sessions(120)]
    body = {"ds": ds, "y": list(range(1, 121)), "periods": 10}
    data = client.post("/api/backtest", json=body).json()
    assert data["holdout"] == 10
    assert len(data["folds"]) == 3


def test_too_short_for_a_backtest_says_so(client, fake_model) -> None:
    ds = [d.strftime("%Y-%m-%d") for d in fakes.sessions(20)]
    body = {"ds": ds, "y": list(range(1, 21)), "periods": 5}
    data = client.post("/api/backtest", json=body).json()
    assert data["folds"] == []
    assert data["summary"].startswith("Too little history for a backtest")
    assert fake_model.requests == []


GOOD_SERIES = {"ds": ["2024-01-02", "2024-01-03", "2024-01-04"], "y": [1, 2, 3], "periods": 2}


def _post(body: object) -> tuple[str, str, dict[str, object]]:
    return ("POST", "/api/forecast", {"json": body})


ERROR_PATHS = [
    # (method, path, request kwargs, model script, status, message fragment)
    ("GET", "/api/forecast/NOPE", {}, [], 404, "No price source has the ticker 'NOPE'."),
    ("GET", "/api/forecast/ACME?source=nowhere", {}, [], 404, "There is no price source"),
    ("GET", "/api/forecast/ACME?periods=0", {}, [], 400, "between 1 and 500"),
    ("GET", "/api/forecast/ACME?periods=abc", {}, [], 400, "whole number"),
    ("GET", "/api/forecast/ACME?periods=501", {}, [], 400, "between 1 and 500"),
    ("GET", "/api/forecast/ACME?window=9y", {}, [], 400, "window must be one of"),
    ("GET", "/api/forecast/ACME?format=xml", {}, [], 400, "format must be json or csv"),
    ("GET", "/api/backtest/NOPE", {}, [], 404, "No price source"),
    ("GET", "/api/nothing-here", {}, [], 404, "Page not found."),
    ("DELETE", "/api/forecast/ACME", {}, [], 405, "Method Not Allowed."),
    ("POST", "/api/forecast", {"content": b"{nope"}, [], 400, "Invalid data format."),
    ("POST", "/api/forecast", {"content": b"[1]"}, [], 400, "Invalid data format."),
    ("POST", "/api/forecast", {"json": {"ds": ["2024-01-02"]}}, [], 400, "y is missing"),
    (
        "POST",
        "/api/forecast",
        {"json": {**GOOD_SERIES, "y": [1, "x", 3]}},
        [],
        400,
        "y[1] is not a number",
    ),
    ("POST", "/api/forecast", {"json": {**GOOD_SERIES, "name": 5}}, [], 400, "name must be"),
    ("POST", "/api/forecast", {"content": b"x" * 9_000}, [], 413, "Request too large"),
    ("POST", "/api/backtest", {"content": b"{nope"}, [], 400, "Invalid data format."),
    ("GET", "/api/forecast/ACME", {}, [fakes.refuse] * 3, 502, "could not be reached"),
    ("GET", "/api/forecast/ACME", {}, [fakes.busy("1")] * 3, 503, "busy"),
    (
        "GET",
        "/api/forecast/ACME",
        {},
        [lambda r: __import__("httpx").Response(403, json={"message": "invalid key"})],
        502,
        "refused this app's key",
    ),
    ("POST", "/api/forecast", {"json": GOOD_SERIES}, [fakes.refuse] * 3, 502, "reached"),
    ("GET", "/api/backtest/ACME", {}, [fakes.refuse] * 3, 502, "could not be reached"),
]


@pytest.mark.parametrize(("method", "path", "kwargs", "script", "status", "fragment"), ERROR_PATHS)
def test_every_api_error_has_the_one_shape(
    make_client: MakeClient, fake_model, method, path, kwargs, script, status, fragment
) -> None:
    client = make_client(upload_max_bytes=2_000)
    fake_model.script = list(script)
    resp = client.request(method, path, **kwargs)
    assert resp.status_code == status
    assert resp.headers["content-type"] == "application/json"
    body = resp.json()
    assert list(body) == ["message"]
    assert fragment in body["message"]
    if status == 503:
        assert resp.headers["retry-after"].isdigit()


def test_unexpected_errors_stay_generic(make_client: MakeClient, fake_model) -> None:
    client = make_client()
    fake_model.script = [lambda r: (_ for _ in ()).throw(RuntimeError("secret detail"))]
    resp = client.get("/api/forecast/ACME")
    assert resp.status_code == 500
    assert resp.json() == {"message": "Internal error; the details are in the service log."}
