"""Throwaway `redis-server`s on free loopback ports: one for the whole test run
(`redis_for_the_run`), and one a test may stop and start again (`RedisServer`). The tests never
use a Redis they did not start: a developer's own, on 6379 or anywhere else, is never read,
written or emptied."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tickercast.cli.processes import NotReady, free_port, stop

# What a test's services may wait for one Redis call: ample on a busy machine. The services'
# own limit (the store's `TIMEOUT`, a quarter second) is for a Redis that hangs; in a test of a
# behaviour that needs Redis, a call slowed by the machine's load must not count as an outage
# (the store would fail open and the test would see another behaviour). Query arguments of a
# Redis URL override the client's own (redis-py's rule), so every URL below carries them.
PATIENT_SECONDS = 10


def url_of(port: int, db: int = 0) -> str:
    """The URL of database `db` of the test Redis on 127.0.0.1:`port`, with patient calls."""
    wait = PATIENT_SECONDS
    return f"redis://127.0.0.1:{port}/{db}?socket_timeout={wait}&socket_connect_timeout={wait}"


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


class RedisServer:
    """A throwaway Redis of a test's own on a free loopback port, stopped and started again at
    will (nothing kept on disk: a restart is empty)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = url_of(self.port)
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


class RunRedis:
    """The test run's own Redis: every test that needs one gets a database of it, emptied
    before and after (it is this run's server, so emptying it touches nobody's data)."""

    def __init__(self, server: RedisServer) -> None:
        self.server = server

    @contextlib.contextmanager
    def database(self) -> Iterator[str]:
        """The URL of an empty database, emptied again when the block ends."""
        import redis

        url = self.server.url
        client = redis.Redis.from_url(url)
        try:
            client.flushdb()
            yield url
            client.flushdb()
        finally:
            client.close()


@contextlib.contextmanager
def redis_for_the_run() -> Iterator[RunRedis]:
    """A Redis for the whole run, on a free port; without redis-server the run stops at once,
    saying how to install it."""
    if shutil.which("redis-server") is None:
        raise RuntimeError("redis-server is not installed: `make system-packages` installs it")
    server = RedisServer()
    server.start()
    try:
        yield RunRedis(server)
    finally:
        server.stop()
