"""The JSON API: shapes, NYSE future dates, downloads, posted series, and one error shape on
every error path."""

from __future__ import annotations

import exchange_calendars as xcals
import pandas as pd
import pytest

from tests.support import fakes
from tests.web.conftest import MakeClient
from tickercast.contract import CALIBRATED_MIN_ROWS
from tickercast.errors import InvalidInput
from tickercast.web.series import PAGE_LEVELS


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
    assert sent["method"] == "calibrated"  # the recommended forecast unless asked otherwise
    assert data["method"] == "calibrated"
    # The model gets the ticker's whole fixed history; the answer shows the window's end of it.
    assert sent["ds"][-126:] == [r["ds"] for r in data["history"]]
    assert len(sent["ds"]) == 600 and data["currency"] == "USD"


@pytest.mark.parametrize("method", ["calibrated", "prophet"])
def test_method_is_passed_to_the_model(client, fake_model, method) -> None:
    data = client.get(f"/api/forecast/ACME?periods=3&method={method}").json()
    assert data["method"] == method
    assert fake_model.requests[0]["method"] == method


def test_too_short_for_a_calibrated_forecast_is_a_400_with_the_models_reason(client) -> None:
    ds = [d.strftime("%Y-%m-%d") for d in fakes.sessions(20)]
    body = {"ds": ds, "y": list(range(1, 21)), "periods": 5}
    resp = client.post("/api/forecast", json=body)
    assert resp.status_code == 400
    assert resp.json() == {
        "message": "The forecasting service could not use this series: the calibrated forecast "
        f"needs at least {CALIBRATED_MIN_ROWS} values (y has 20)."
    }
    # Plain Prophet keeps the original contract for short series.
    assert client.post("/api/forecast", json={**body, "method": "prophet"}).status_code == 200


def test_history_is_adjusted_close(client) -> None:
    data = client.get("/api/forecast/ACME?periods=1&window=6m").json()
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


def test_backtest_of_a_ticker_comes_from_the_models_backtest(client, fake_model) -> None:
    data = client.get("/api/backtest/ACME?periods=20&window=1y").json()
    (sent,) = fake_model.sent("/backtest")
    assert (sent["horizon"], sent["cutoffs"], sent["method"]) == (20, 50, "calibrated")
    assert sent["levels"] == list(PAGE_LEVELS)  # every band's coverage, with its interval
    assert sent["freq"] == "XNYS"
    assert len(sent["y"]) == 600  # the fixed history (all of it: shorter), not the window
    assert fake_model.sent("/") == []
    assert (data["ticker"], data["window"], data["method"]) == ("ACME", "1y", "calibrated")
    assert (data["horizon_asked"], data["horizon"], data["cutoffs"]) == (20, 20, 50)
    assert (data["shortened"], data["fewer"]) == (None, None)
    assert len(data["scores"]["calibrated"]["by_step"]) == 20
    assert data["scores"]["random_walk"]["overall"]["relative_mae"] == 1.0
    assert data["verdict"].startswith("Over 50 past 20-trading-day periods")
    assert data["summary"] == data["verdict"]
    assert data["band_label"] == "80% band, held 79% (73–84%) of prices in backtests"
    assert [b["level"] for b in data["coverage"]] == [50, 80, 95]
    assert data["coverage"][1]["sentence"] == (
        "The 80% band held 79% (73–84%) of 20 past prices at 50 dates."
    )
    assert data["band_labels"]["95"] == "95% band, held 94% (88–99%) of prices in backtests"
    assert data["mase_means"].startswith("MASE = our mean absolute error ÷ the random walk's")


def test_backtest_of_prophet(client, fake_model) -> None:
    data = client.get("/api/backtest/ACME?periods=5&method=prophet").json()
    assert fake_model.sent("/backtest")[0]["method"] == "prophet"
    assert list(data["scores"]) == ["prophet", "random_walk", "random_walk_drift"]


def test_backtest_of_a_longer_horizon_than_the_history_allows_says_why(client, fake_model) -> None:
    # The ticker's 600 rows (whatever the window): 20 origins of 500 steps do not fit (the
    # least training, 19 more origins, 500 to score); 120 is the longest that does, at 50. The
    # page knows that from the history's length: one request.
    data = client.get("/api/backtest/ACME?periods=500&window=1y").json()
    assert [(r["horizon"], r["cutoffs"]) for r in fake_model.sent("/backtest")] == [(120, 50)]
    assert (data["horizon_asked"], data["horizon"], data["fewer"]) == (500, 120, None)
    assert data["shortened"] == (
        "Backtested 120 trading days ahead, not the 500 trading days asked for: "
        "600 prices are too few to test 500 trading days ahead at 20 past dates."
    )
    assert data["summary"] == f"{data['shortened']} {data['verdict']}"
    assert len(data["scores"]["calibrated"]["by_step"]) == 120
    assert data["band_label"].endswith("in backtests up to 120 trading days ahead")
    assert data["coverage"][0]["sentence"].endswith("at 50 dates up to 120 trading days ahead.")


def test_backtest_the_model_refuses_falls_to_the_next_plan_with_its_reason(
    client, fake_model
) -> None:
    fake_model.script.append(lambda request: fakes.refused(InvalidInput("calendar too short")))
    data = client.get("/api/backtest/ACME?periods=500&window=1y").json()
    assert [r["horizon"] for r in fake_model.sent("/backtest")] == [120, 60]
    assert data["shortened"] == (
        "Backtested 60 trading days ahead, not the 500 trading days asked for: calendar too short."
    )


def test_posted_series_forecast(client, fake_model) -> None:
    ds = [d.strftime("%Y-%m-%d") for d in fakes.sessions(150)]
    body = {"name": "mine", "ds": ds, "y": [10.0 + i for i in range(150)], "periods": 4}
    data = client.post("/api/forecast", json=body).json()
    assert data["ticker"] == "mine"
    assert len(data["forecast"]) == 4
    assert fake_model.requests[0]["freq"] == "XNYS"  # weekdays only: NYSE sessions


def test_posted_calendar_daily_series_leaves_freq_to_the_model(client, fake_model) -> None:
    ds = [d.strftime("%Y-%m-%d") for d in pd.date_range("2024-01-01", periods=80)]
    client.post("/api/forecast", json={"ds": ds, "y": list(range(80)), "periods": 3})
    assert "freq" not in fake_model.requests[0]


def test_posted_series_backtest(client, fake_model) -> None:
    ds = [d.strftime("%Y-%m-%d") for d in fakes.sessions(120)]
    body = {"ds": ds, "y": list(range(1, 121)), "periods": 10, "method": "prophet"}
    data = client.post("/api/backtest", json=body).json()
    assert (data["ticker"], data["source"], data["horizon"]) == ("upload", "upload", 10)
    (sent,) = fake_model.sent("/backtest")
    assert (sent["method"], sent["freq"], sent["horizon"]) == ("prophet", "XNYS", 10)


def test_posted_series_is_sorted_by_date_before_any_fit(client, fake_model) -> None:
    ds = [d.strftime("%Y-%m-%d") for d in fakes.sessions(120)]
    y = list(range(1, 121))
    body = {"ds": ds[::-1], "y": y[::-1], "periods": 5}
    client.post("/api/backtest", json=body)
    client.post("/api/forecast", json=body)
    for sent in fake_model.requests:
        assert sent["ds"] == ds
        assert sent["y"] == y


def test_posted_series_with_a_repeated_date_is_refused(client, fake_model) -> None:
    ds = [d.strftime("%Y-%m-%d") for d in fakes.sessions(40)]
    body = {"ds": ds + ds[:1], "y": list(range(41)), "periods": 5}
    for path in ("/api/forecast", "/api/backtest"):
        resp = client.post(path, json=body)
        assert resp.status_code == 400
        assert resp.json()["message"] == f"Invalid input: ds[40] repeats the date {ds[0]} of ds[0]."
    assert fake_model.requests == []


def test_too_short_for_any_backtest_is_a_400_with_the_models_reason(client, fake_model) -> None:
    n = CALIBRATED_MIN_ROWS + 4  # enough to forecast, one row short of a 1-step backtest
    ds = [d.strftime("%Y-%m-%d") for d in fakes.sessions(n)]
    body = {"ds": ds, "y": list(range(1, n + 1)), "periods": 5}
    resp = client.post("/api/backtest", json=body)
    assert resp.status_code == 400
    # No horizon fits 5 origins: the one request the page makes is refused with the reason.
    assert resp.json()["message"] == (
        "The forecasting service could not use this series: a backtest of 50 cutoffs over 5 "
        f"steps with method 'calibrated' needs at least {CALIBRATED_MIN_ROWS + 54} rows "
        f"(got {n})."
    )
    assert [r["horizon"] for r in fake_model.sent("/backtest")] == [5]


GOOD_SERIES = {"ds": ["2024-01-02", "2024-01-03", "2024-01-04"], "y": [1, 2, 3], "periods": 2}


def _post(body: object) -> tuple[str, str, dict[str, object]]:
    return ("POST", "/api/forecast", {"json": body})


ERROR_PATHS = [
    # (method, path, request kwargs, model script, status, message fragment)
    ("GET", "/api/forecast/NOPE", {}, [], 404, "No prices for NOPE."),
    ("GET", "/api/forecast/ACME?source=nowhere", {}, [], 404, "There is no price source"),
    ("GET", "/api/forecast/ACME?periods=0", {}, [], 400, "between 1 and 500"),
    ("GET", "/api/forecast/ACME?periods=abc", {}, [], 400, "whole number"),
    ("GET", "/api/forecast/ACME?periods=501", {}, [], 400, "between 1 and 500"),
    ("GET", "/api/forecast/ACME?window=9y", {}, [], 400, "window must be one of"),
    ("GET", "/api/forecast/ACME?format=xml", {}, [], 400, "format must be json or csv"),
    ("GET", "/api/forecast/ACME?method=arima", {}, [], 400, "method must be one of"),
    (
        "GET",
        "/api/backtest/ACME?method=x",
        {},
        [],
        400,
        "method must be one of calibrated, prophet",
    ),
    ("POST", "/api/forecast", {"json": {**GOOD_SERIES, "method": 1}}, [], 400, "method must be"),
    ("GET", "/api/backtest/NOPE", {}, [], 404, "No prices for NOPE."),
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
    ("GET", "/api/forecast/ACME", {}, [fakes.refuse] * 3, 503, "could not be reached"),
    ("GET", "/api/forecast/ACME", {}, [fakes.busy("30")], 503, "busy"),
    (
        "GET",
        "/api/forecast/ACME",
        {},
        [lambda r: __import__("httpx").Response(403, json={"message": "invalid key"})],
        502,
        "refused this app's key",
    ),
    ("POST", "/api/forecast", {"json": GOOD_SERIES}, [fakes.refuse] * 3, 503, "reached"),
    ("GET", "/api/backtest/ACME", {}, [fakes.refuse] * 3, 503, "could not be reached"),
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


def test_unexpected_errors_stay_generic(make_client: MakeClient, fake_model, caplog) -> None:
    client = make_client()
    fake_model.script = [lambda r: (_ for _ in ()).throw(RuntimeError("secret detail"))] * 2
    for _ in range(2):
        resp = client.get("/api/forecast/ACME")
        assert resp.status_code == 500
        assert resp.json() == {"message": "Internal error; the details are in the service log."}
    reports = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    # Logged once per error, the first with its traceback, the next in one line.
    assert len(reports) == 2 and all("RuntimeError" in r for r in reports)
    assert "Traceback" not in reports[1] and "(2 of this kind)" in reports[1]


def test_steps_are_trading_days_for_tickers_and_days_for_calendar_day_uploads(client) -> None:
    assert client.get("/api/forecast/ACME?periods=2").json()["step"] == "trading day"
    assert client.get("/api/backtest/ACME?periods=2").json()["step"] == "trading day"
    ds = [d.strftime("%Y-%m-%d") for d in pd.date_range("2024-01-01", periods=200)]
    body = {"ds": ds, "y": list(range(200)), "periods": 3}
    assert client.post("/api/forecast", json=body).json()["step"] == "day"
    assert client.post("/api/backtest", json=body).json()["step"] == "day"


def test_the_posted_series_limit_follows_the_setting(make_client: MakeClient) -> None:
    client = make_client(upload_max_rows=130)
    ds = [d.strftime("%Y-%m-%d") for d in pd.date_range("2024-01-01", periods=131)]
    body = {"ds": ds, "y": list(range(131)), "periods": 3}
    resp = client.post("/api/forecast", json=body)
    assert resp.status_code == 400 and "over the limit of 130" in resp.json()["message"]
    assert client.post(
        "/api/forecast", json={**body, "ds": ds[:130], "y": body["y"][:130]}
    ).is_success
    schema = client.get("/openapi.json").json()
    assert '"maxItems": 130' in str(schema).replace("'", '"')
