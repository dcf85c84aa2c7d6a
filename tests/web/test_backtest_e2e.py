"""The backtest panel's API end to end: the web app and the model service (mock mode) as real
processes, the web app's answer built from the model's own POST /backtest."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import MODEL_KEYS
from tests.support.procs import ServiceProcess, free_port, start_process

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def web_on_mock(mock_service: ServiceProcess) -> Iterator[ServiceProcess]:
    port = free_port()
    env = {"MODEL_API_URL": f"{mock_service.url}/", "MODEL_API_KEY": MODEL_KEYS[0]}
    with start_process(["web", "--port", str(port)], env, port) as svc:
        yield svc


def test_ticker_backtest_through_running_processes(web_on_mock: ServiceProcess) -> None:
    resp = httpx.get(f"{web_on_mock.url}/api/backtest/AAPL?periods=20&window=2y", timeout=30)
    assert resp.status_code == 200, resp.text
    data = resp.json()
    assert (data["method"], data["horizon_asked"], data["horizon"]) == ("calibrated", 20, 20)
    assert data["cutoffs"] == len(data["folds"]) == 50
    assert set(data["scores"]) == {"calibrated", "random_walk", "random_walk_drift"}
    ours = data["scores"]["calibrated"]
    assert len(ours["by_step"]) == 20
    assert data["scores"]["random_walk"]["overall"]["relative_mae"] == 1.0
    assert 0 <= ours["overall"]["coverage"] <= 1
    (eighty,) = [b for b in data["coverage"] if b["level"] == 80]
    assert eighty["low"] <= ours["overall"]["coverage"] <= eighty["high"]
    spread = f"({eighty['low'] * 100:.0f}–{eighty['high'] * 100:.0f}%)"
    assert (
        data["band_label"]
        == f"80% band, held {ours['overall']['coverage']:.0%} {spread} of prices in backtests"
    )
    assert [b["level"] for b in data["coverage"]] == [50, 80, 95]
    assert data["verdict"]
    # Every fold trains on the past only and is scored on what followed, in the window.
    for fold in data["folds"]:
        assert fold["train_end"] < fold["test_start"] <= fold["test_end"] <= "2013-03-01"


def test_posted_series_backtest_and_too_short_through_running_processes(
    web_on_mock: ServiceProcess,
) -> None:
    history = httpx.get(f"{web_on_mock.url}/api/forecast/IBM?periods=1&window=1y", timeout=30)
    rows = history.json()["history"]
    body = {"ds": [r["ds"] for r in rows][::-1], "y": [r["close"] for r in rows][::-1]}
    resp = httpx.post(f"{web_on_mock.url}/api/backtest", json={**body, "periods": 5}, timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.json()["folds"][-1]["test_end"] == rows[-1]["ds"]  # sorted before any fit
    short = {"ds": body["ds"][:10], "y": body["y"][:10], "periods": 5}
    refused = httpx.post(f"{web_on_mock.url}/api/forecast", json=short, timeout=30)
    assert refused.status_code == 400
    assert "calibrated" in refused.json()["message"]
