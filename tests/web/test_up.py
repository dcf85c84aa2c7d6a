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


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, read from /proc (Linux)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    """Running, a zombie not counting (it has ended; its reaper may be slow)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
def test_up_killed_by_sigkill_leaves_nothing_running(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "up.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tickercast", "up", "--mock", "--port", str(port)],
            env=dict(os.environ),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    left: set[int] = set()
    try:
        model_port = int(
            wait_for_line(log, r"model service \(mock\) on http://[\d.]+:(\d+)", process)[1]
        )
        wait_for_line(log, rf"tickercast is up: open http://127\.0\.0\.1:{port}/", process)
        below = descendants(process.pid)
        assert len(below) >= 4, below  # two services, each a master and its worker(s)
        process.kill()
        process.wait()
        deadline = time.monotonic() + 30
        left = {pid for pid in below if alive(pid)}
        while left and time.monotonic() < deadline:
            time.sleep(0.2)
            left = {pid for pid in left if alive(pid)}
        assert not left, f"still running after up was killed: {left}"
        assert not listening(port) and not listening(model_port)
    finally:
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        if process.poll() is None:
            process.kill()
            process.wait()
