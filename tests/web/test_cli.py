"""`tickercast web` refuses to start without its settings; the gunicorn command line."""

from __future__ import annotations

import os
import subprocess
import sys

from tickercast.web.server import gunicorn_argv


def test_web_refuses_to_start_without_the_model_settings() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODEL_")}
    out = subprocess.run(
        [sys.executable, "-m", "tickercast", "web", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "cannot start: check MODEL_API_KEY, MODEL_API_URL" in out.stderr
    assert "tickercast up" in out.stderr


def test_web_names_the_one_missing_setting() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODEL_")}
    env["MODEL_API_URL"] = "http://127.0.0.1:9/"
    out = subprocess.run(
        [sys.executable, "-m", "tickercast", "web"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "check MODEL_API_KEY." in out.stderr


def test_gunicorn_command_line() -> None:
    argv = gunicorn_argv("0.0.0.0", 8123, 3, 60.0)
    assert argv[1] == "tickercast.web.app:app_from_env()"
    assert argv[argv.index("--worker-class") + 1] == "uvicorn_worker.UvicornWorker"
    assert "--no-control-socket" in argv
    assert "--preload" not in argv
    assert argv[argv.index("--bind") + 1] == "0.0.0.0:8123"
    assert argv[argv.index("--workers") + 1] == "3"
