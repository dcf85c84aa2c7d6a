"""`tickercast up` end to end: the real Prophet model service and the web app as processes,
a forecast for every embedded ticker on NYSE sessions, and a clean stop on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import exchange_calendars as xcals
import httpx
import pandas as pd
import pytest

from tests.support.procs import free_port
from tickercast.data.embedded import EmbeddedProvider

pytestmark = pytest.mark.slow


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_for_line(log: Path, pattern: str, process: subprocess.Popen[bytes]) -> re.Match[str]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        match = re.search(pattern, log.read_text(errors="replace"))
        if match:
            return match
        assert process.poll() is None, log.read_text(errors="replace")
        time.sleep(0.2)
    raise AssertionError(f"no {pattern!r} in:\n{log.read_text(errors='replace')}")


def test_up_serves_a_forecast_for_every_embedded_ticker(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "up.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tickercast", "up", "--port", str(port)],
            env=dict(os.environ),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        model_port = int(
            wait_for_line(log, r"model service \(Prophet\) on http://[\d.]+:(\d+)", process)[1]
        )
        wait_for_line(log, rf"tickercast is up: open http://127\.0\.0\.1:{port}/", process)
        xnys = xcals.get_calendar("XNYS", start="2012-01-01", end="2014-12-31")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            for ticker in EmbeddedProvider().tickers():
                resp = client.get(f"/api/forecast/{ticker}?periods=10&window=6m")
                assert resp.status_code == 200, resp.text
                data = resp.json()
                last = pd.Timestamp(data["history"][-1]["ds"])
                expected = xnys.sessions[xnys.sessions > last][:10].strftime("%Y-%m-%d")
                assert [r["ds"] for r in data["forecast"]] == list(expected), ticker
                for row in data["forecast"]:
                    assert row["yhat_lower"] <= row["yhat"] <= row["yhat_upper"]
            assert client.get("/t/FB").status_code == 200
            # The model service is reachable only with this run's key.
            refused = httpx.post(f"http://127.0.0.1:{model_port}/", json={"key": "guess"})
            assert refused.status_code == 403
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=40) == 0
        assert not listening(port)
        assert not listening(model_port)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
