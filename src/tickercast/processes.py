"""Starting and stopping tickercast's own processes: `tickercast up`, and the end-to-end tests
and benchmarks that run the services for real."""

from __future__ import annotations

import signal
import socket
import subprocess
import time

import httpx


class NotReady(RuntimeError):
    """A process exited, or did not answer ready, before its time was up."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(
    url: str, process: subprocess.Popen[bytes], what: str, timeout: float, in_a_row: int = 1
) -> None:
    """Poll `url` until it answers 200 `in_a_row` times running (with several workers, each
    answer comes from whichever worker took it), or raise NotReady."""
    deadline = time.monotonic() + timeout
    ready = 0
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise NotReady(f"the {what} exited (code {process.returncode}) before it was ready")
        try:
            ok = httpx.get(url, timeout=2).status_code == 200
        except httpx.HTTPError:
            ok = False
        ready = ready + 1 if ok else 0
        if ready >= in_a_row:
            return
        time.sleep(0.05 if ok else 0.2)
    raise NotReady(f"the {what} was not ready after {timeout:.0f} s")


def stop(process: subprocess.Popen[bytes] | None, grace: float = 20.0) -> None:
    """SIGTERM, then SIGKILL if it has not exited after `grace` seconds."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
