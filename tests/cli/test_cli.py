"""The services refuse to start without their settings, saying which and printing no secret;
the gunicorn command line they run."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from typing import Any

import pytest

from tickercast.runtime.serving import (
    RetireAfter,
    forget_worker_metrics,
    gunicorn_options,
    owned_folder,
)


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("MODEL_")}
    return subprocess.run(
        [sys.executable, "-m", "tickercast", *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (["model"], {}, "cannot start: check MODEL_API_KEYS."),
        (["model"], {"MODEL_API_KEYS": ""}, "cannot start: check MODEL_API_KEYS."),
        (["model", "--mock"], {"MODEL_API_KEYS": " , "}, "cannot start: check MODEL_API_KEYS."),
        (["web"], {}, "cannot start: check MODEL_API_KEY, MODEL_API_URL."),
        (["web"], {"MODEL_API_URL": "http://127.0.0.1:9/"}, "cannot start: check MODEL_API_KEY."),
        (["web"], {"MODEL_API_KEY": "sekrit-77"}, "cannot start: check MODEL_API_URL."),
    ],
)
def test_refuses_to_start_and_says_which_setting(
    args: list[str], env: dict[str, str], says: str
) -> None:
    done = run([*args, "--port", "1"], env)
    assert done.returncode == 2
    assert f"tickercast {args[0]}: {says}" in done.stderr
    assert "Traceback" not in done.stderr and "sekrit-77" not in done.stderr


def test_gunicorn_options() -> None:
    options = gunicorn_options("0.0.0.0", 8123, 3, 90.0)
    assert options["worker_class"] == "tickercast.runtime.serving.Worker"
    assert options["control_socket_disable"] is True and "preload_app" not in options
    assert (options["bind"], options["workers"], options["timeout"]) == ("0.0.0.0:8123", 3, 90)
    assert "max_requests" not in options  # RetireAfter does it without resetting connections
    assert options["child_exit"] is forget_worker_metrics


def test_retire_after_closes_each_connection_then_stops_the_worker() -> None:
    stops: list[float] = []
    calls: list[int] = []
    refusing: list[int] = []  # the request at which the worker stopped accepting

    async def app(scope: object, receive: object, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def scenario() -> list[bool]:
        loop = asyncio.get_running_loop()
        retire = RetireAfter(
            app,
            limit=3,
            grace=0.05,
            stop=lambda: stops.append(loop.time()),
            stop_accepting=lambda: refusing.append(len(calls)),
        )
        closes = []
        for _ in range(5):
            calls.append(1)
            sent: list[dict[str, Any]] = []

            async def send(message: dict[str, Any], into: list[dict[str, Any]] = sent) -> None:
                into.append(message)

            await retire({"type": "http"}, None, send)
            closes.append((b"connection", b"close") in sent[0]["headers"])
        assert not stops  # not at once: the connections get their last answers first
        deadline = loop.time() + 30
        while not stops and loop.time() < deadline:  # the grace passes, then the stop
            await asyncio.sleep(0.01)  # poll
        return closes

    assert asyncio.run(scenario()) == [False, False, True, True, True]
    assert len(stops) == 1
    assert refusing == [3]  # at once, on the request that reached the limit, and only then


def test_only_the_creator_removes_an_owned_folder() -> None:
    block = owned_folder("tickercast-test-")
    folder = block.__enter__()
    pid = os.fork()
    if pid == 0:  # a forked child leaving the block, as a gunicorn worker does when it exits
        try:
            block.__exit__(None, None, None)
        finally:
            os._exit(0 if os.path.isdir(folder) else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0 and os.path.isdir(folder)
    block.__exit__(None, None, None)
    assert not os.path.exists(folder)
