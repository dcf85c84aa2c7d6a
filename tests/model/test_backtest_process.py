"""POST /backtest on real prices through the real model service (Prophet, two workers)."""

from __future__ import annotations

import json

import pytest
import requests

from tests.conftest import MODEL_KEYS
from tests.support.prices import request_body
from tests.support.procs import ServiceProcess

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("method", ["prophet", "calibrated"])
def test_backtest_on_real_prices(model_service: ServiceProcess, method: str) -> None:
    body = request_body(
        "MSFT", 140, MODEL_KEYS[0], freq="XNYS", horizon=5, cutoffs=2, method=method
    )
    resp = requests.post(f"{model_service.url}/backtest", data=json.dumps(body), timeout=120)
    assert resp.status_code == 200, resp.text
    data = resp.json()
    assert data["method"] == method and len(data["folds"]) == 2
    assert data["folds"][-1]["test_end"] == "2013-03-01"
    ours = data["scores"][method]["overall"]
    assert ours["count"] == 10 and ours["mae"] > 0
    assert data["scores"]["random_walk"]["overall"]["relative_mae"] == 1
    assert 0 <= ours["coverage"] <= 1 and ours["band_width"] > 0
    assert data["verdict"].startswith("Over 2 past 5-trading-day periods")
    if method == "calibrated":  # anchored at the last price: the first step is close
        assert data["scores"][method]["by_step"][0]["mape"] < 5


def test_backtest_of_too_short_a_series_is_a_400(model_service: ServiceProcess) -> None:
    body = request_body("MSFT", 40, MODEL_KEYS[0], method="calibrated", horizon=5, cutoffs=2)
    resp = requests.post(f"{model_service.url}/backtest", data=json.dumps(body), timeout=60)
    assert resp.status_code == 400
    assert "needs at least" in resp.json()["message"]
