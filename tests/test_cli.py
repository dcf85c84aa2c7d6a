"""The services refuse to start without their settings, saying which and printing no secret;
the gunicorn command line they run."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tickercast.serving import gunicorn_argv


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


def test_gunicorn_command_line() -> None:
    argv = gunicorn_argv("tickercast.web.app:app_from_env()", "0.0.0.0", 8123, 3, 90.0)
    assert argv[1] == "tickercast.web.app:app_from_env()"
    assert "--worker-class=uvicorn_worker.UvicornWorker" in argv
    assert "--no-control-socket" in argv and "--preload" not in argv
    assert {"--bind=0.0.0.0:8123", "--workers=3", "--timeout=90"} <= set(argv)
