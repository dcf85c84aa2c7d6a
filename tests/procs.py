"""Start real tickercast processes on free ports for end-to-end tests, and stop them."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServiceProcess:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def wait_ready(url: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    in_a_row = 0  # each answer comes from whichever worker took it: ask until all say ready
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited early:\n{log_path.read_text(errors='replace')}")
        try:
            ready = httpx.get(f"{url}/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            ready = False
        in_a_row = in_a_row + 1 if ready else 0
        if in_a_row == 10:
            return
        time.sleep(0.05 if ready else 0.1)
    raise RuntimeError(f"not ready after {timeout} s:\n{log_path.read_text(errors='replace')}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def start_process(
    args: Sequence[str], env: dict[str, str], port: int, timeout: float = 60
) -> Iterator[ServiceProcess]:
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="tickercast-test-") as tmp:
        log_path = Path(tmp) / "service.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "tickercast", *args],
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_ready(url, process, log_path, timeout)
            yield ServiceProcess(url, process, log_path)
        finally:
            stop(process)


@contextlib.contextmanager
def start_model_service(
    keys: Sequence[str],
    workers: int = 1,
    mock: bool = False,
    extra_env: dict[str, str] | None = None,
) -> Iterator[ServiceProcess]:
    port = free_port()
    args = ["model", "--port", str(port), "--workers", str(workers)]
    if mock:
        args.append("--mock")
    env = {"MODEL_API_KEYS": ",".join(keys), **(extra_env or {})}
    with start_process(args, env, port) as svc:
        yield svc
