"""The services refuse to start without their settings, saying which and printing no secret;
the gunicorn command line they run."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tickercast.serving import forget_worker_metrics, gunicorn_options, owned_folder


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
    options = gunicorn_options("0.0.0.0", 8123, 3, 90.0, max_requests=40, jitter=5)
    assert options["worker_class"] == "uvicorn_worker.UvicornWorker"
    assert options["control_socket_disable"] is True and "preload_app" not in options
    assert (options["bind"], options["workers"], options["timeout"]) == ("0.0.0.0:8123", 3, 90)
    assert (options["max_requests"], options["max_requests_jitter"]) == (40, 5)
    assert options["child_exit"] is forget_worker_metrics
    assert gunicorn_options("h", 1, 0, 1, max_requests=0, jitter=5)["max_requests_jitter"] == 0


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
