"""A throwaway `redis-server` on a loopback port: for a machine with no Redis of its own (the
tests expect one at 127.0.0.1:6379), and for tests that need a Redis they may stop and start
again (`RedisServer`)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tickercast.processes import NotReady, free_port, stop

TESTS_PORT = 6379


def answers(port: int) -> bool:
    """Whether a Redis answers PING at 127.0.0.1:`port` (with PONG, or an error such as
    NOAUTH: either way the port is taken by a Redis)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith((b"+PONG", b"-"))
    except OSError:
        return False


@contextlib.contextmanager
def redis_server(port: int, timeout: float = 10) -> Iterator[subprocess.Popen[bytes]]:
    """A redis-server on 127.0.0.1:`port` that keeps nothing on disk, stopped on exit."""
    executable = shutil.which("redis-server")
    if executable is None:
        raise RuntimeError("redis-server is not installed (`make system-packages` installs it)")
    with tempfile.TemporaryDirectory(prefix="tickercast-redis-") as folder:
        log_path = Path(folder) / "redis.log"
        args = [executable, "--bind", "127.0.0.1", "--port", str(port), "--dir", folder]
        args += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        with log_path.open("wb") as log:
            process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while not answers(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise NotReady(
                        f"redis-server on port {port} did not start:\n"
                        + log_path.read_text(errors="replace")
                    )
                time.sleep(0.05)
            yield process
        finally:
            stop(process)


@contextlib.contextmanager
def redis_for_tests(port: int = TESTS_PORT) -> Iterator[subprocess.Popen[bytes] | None]:
    """The machine's Redis at `port` if one answers (None), else a throwaway one for as long
    as the block runs. Without redis-server installed, nothing is started: the tests that need
    Redis then say so themselves."""
    if answers(port) or shutil.which("redis-server") is None:
        yield None
        return
    with redis_server(port) as process:
        yield process


class RedisServer:
    """A throwaway Redis of a test's own on a free loopback port, stopped and started again at
    will (nothing kept on disk: a restart is empty)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._running: contextlib.ExitStack | None = None

    def start(self) -> None:
        running = contextlib.ExitStack()
        running.enter_context(redis_server(self.port))
        self._running = running

    def stop(self) -> None:
        if self._running is not None:
            self._running.close()
            self._running = None


@contextlib.contextmanager
def own_redis() -> Iterator[RedisServer]:
    """A running `RedisServer` for the block; without redis-server the test fails, saying
    how to install it (`make test` does)."""
    if shutil.which("redis-server") is None:
        import pytest

        pytest.fail("redis-server is not installed: `make system-packages` installs it")
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
