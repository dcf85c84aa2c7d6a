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
    url: str, process: subprocess.Popen[bytes], what: str, timeout: float, workers: int = 1
) -> None:
    """Ask `url` until it answers 200, or raise NotReady. With `workers` > 1 and a service
    that names the answering worker (`X-Worker`), until that many different workers have
    each answered ready: every request goes to whichever worker takes it."""
    deadline = time.monotonic() + timeout
    ready: set[str] = set()
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise NotReady(f"the {what} exited (code {process.returncode}) before it was ready")
        try:
            answer = httpx.get(url, timeout=2)
        except httpx.HTTPError:
            answer = None
        if answer is not None and answer.status_code == 200:
            worker = answer.headers.get("X-Worker")
            if worker is None:
                return  # no way to tell the workers apart: one ready answer is all there is
            ready.add(worker)
            if len(ready) >= workers:
                return
        time.sleep(0.05 if answer is not None and answer.status_code == 200 else 0.2)
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
