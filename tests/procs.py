"""Start real tickercast processes on free ports for end-to-end tests, and stop them."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tickercast.processes import NotReady, free_port, stop, wait_ready


@dataclass
class ServiceProcess:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


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
            try:
                wait_ready(f"{url}/readyz", process, f"tickercast {args[0]}", timeout, in_a_row=10)
            except NotReady as exc:
                raise NotReady(f"{exc}:\n{log_path.read_text(errors='replace')}") from None
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


@contextlib.contextmanager
def start_web_app(
    model_url: str, key: str, workers: int = 1, extra_env: dict[str, str] | None = None
) -> Iterator[ServiceProcess]:
    """`tickercast web` on the embedded sample prices, pointed at a model service."""
    port = free_port()
    args = ["web", "--port", str(port), "--workers", str(workers)]
    env = {"MODEL_API_URL": f"{model_url}/", "MODEL_API_KEY": key, **(extra_env or {})}
    with start_process(args, env, port) as svc:
        yield svc


class RedisServer:
    """A throwaway `redis-server` of a test's own on a free loopback port, stopped and started
    again at will (no persistence: a restart is empty)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        import redis

        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly"]
        self.process = subprocess.Popen(
            ["redis-server", *args, "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        client = redis.Redis.from_url(self.url, socket_timeout=1)
        for _ in range(100):
            with contextlib.suppress(redis.RedisError):
                if client.ping():
                    return
            time.sleep(0.05)
        raise NotReady(f"redis-server on port {self.port} did not answer")

    def stop(self) -> None:
        stop(self.process, grace=5)
        self.process = None


@contextlib.contextmanager
def redis_server() -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        import pytest

        pytest.skip("redis-server is not installed")
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
