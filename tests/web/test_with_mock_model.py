"""The web app on the model app itself (mock engine), in-process: what the page and the JSON
API make of the model's real answers and refusals, without starting a process."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.support import fakes
from tickercast.contract import CALIBRATED_MIN_ROWS
from tickercast.model.api import create_app as create_model_app
from tickercast.settings import ModelSettings
from tickercast.web.app import create_app
from tickercast.web.model_client import ModelClient


@pytest.fixture
def web() -> Iterator[TestClient]:
    model_settings = ModelSettings(model_api_keys=fakes.KEY, model_mock=True)  # type: ignore[call-arg]
    model_app = httpx.ASGITransport(create_model_app(model_settings))
    model = ModelClient(fakes.MODEL_URL, fakes.KEY, transport=model_app, retries=0)
    providers = fakes.providers()
    # A ticker whose last month jumped a third: far from any straight line through its history.
    jump = providers["fake"].frames["ACME"].copy()
    jump.iloc[-21:] *= 4 / 3
    providers["fake"].frames["JUMP"] = jump
    app = create_app(fakes.settings(), providers=providers, model_client=model)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_backtest_panel_answer_from_the_models_backtest(web: TestClient) -> None:
    resp = web.get("/api/backtest/ACME?periods=20&window=1y")
    assert resp.status_code == 200, resp.text
    data = resp.json()
    assert (data["method"], data["horizon"], data["cutoffs"], data["shortened"]) == (
        "calibrated",
        20,
        50,
        None,
    )
    ours = data["scores"]["calibrated"]
    assert len(ours["by_step"]) == 20
    (eighty,) = [b for b in data["coverage"] if b["level"] == 80]
    assert eighty["low"] <= eighty["coverage"] <= eighty["high"]
    held = f"{ours['overall']['coverage']:.0%} ({eighty['low'] * 100:.0f}–{eighty['high']:.0%})"
    assert data["band_label"] == f"80% band, held {held} of prices in backtests"
    assert eighty["sentence"].startswith(f"The 80% band held {held} of ")
    assert eighty["high"] < 0.8  # the mock's band is far too narrow, and the sentence says so
    assert " It is too narrow, by " in eighty["sentence"]
    assert data["verdict"] and data["summary"] == data["verdict"]


def test_a_horizon_too_long_for_the_history_is_shortened_with_the_reason(
    web: TestClient,
) -> None:
    data = web.get("/api/backtest/ACME?periods=500&window=1y").json()  # 600 sessions
    assert (data["horizon_asked"], data["horizon"]) == (500, 120)
    assert data["shortened"].startswith(
        "Backtested 120 trading days ahead, not the 500 trading days asked for: "
    )
    assert "600 prices are too few to test 500 trading days ahead" in data["shortened"]
    assert len(data["scores"]["calibrated"]["by_step"]) == 120


def test_too_short_for_a_calibrated_forecast(web: TestClient) -> None:
    n = CALIBRATED_MIN_ROWS - 1
    ds = [d.strftime("%Y-%m-%d") for d in fakes.sessions(n)]
    body = {"ds": ds, "y": [10.0 + i % 3 for i in range(n)], "periods": 10}
    resp = web.post("/api/forecast", json=body)
    assert resp.status_code == 400
    message = resp.json()["message"]
    assert message.startswith("The forecasting service could not use this series: ")
    assert f"at least {CALIBRATED_MIN_ROWS}" in message
    assert web.post("/api/backtest", json=body).json()["message"] == message
    plain = web.post("/api/forecast", json={**body, "method": "prophet"})
    assert plain.status_code == 200
    assert plain.json()["method"] == "prophet"


def test_a_forecast_that_does_not_start_at_the_last_price_is_called_out(web: TestClient) -> None:
    # The mock's straight line through the whole history starts far from the last price.
    data = web.get("/api/forecast/JUMP?periods=20&window=1y").json()
    first, last = data["forecast"][0], data["history"][-1]["close"]
    assert not first["yhat_lower"] <= last <= first["yhat_upper"]
    note, band = data["notes"]
    assert note.startswith(f"The forecast for the first trading day ({first['yhat']:.2f}) is ")
    assert band.startswith("The band is ") and "over these 600 trading days" in band
    assert data["components"]["shown"] == ["trend", "yearly"]  # 600 sessions: over two years
