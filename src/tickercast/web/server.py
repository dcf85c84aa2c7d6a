"""Run the web app under gunicorn with uvicorn workers (`tickercast web`).

The web app never imports Prophet, so a worker stays small (a 512 MB dyno holds two).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

from pydantic import ValidationError

from tickercast.settings import WebSettings


def check_settings() -> WebSettings | None:
    try:
        return WebSettings()  # type: ignore[call-arg]
    except ValidationError as exc:
        fields = ", ".join(
            sorted({str(err["loc"][0]).upper() for err in exc.errors() if err["loc"]})
        )
        print(
            f"tickercast web: cannot start: check {fields or 'the settings'}. "
            "The web app needs MODEL_API_URL (where the model service answers, e.g. "
            "http://127.0.0.1:9000/) and MODEL_API_KEY (one of that service's MODEL_API_KEYS). "
            "To run everything on one machine instead, use `tickercast up`.",
            file=sys.stderr,
        )
        return None


def gunicorn_argv(host: str, port: int, workers: int, timeout: float) -> list[str]:
    return [
        "gunicorn",
        "tickercast.web.app:app_from_env()",
        "--worker-class",
        "uvicorn_worker.UvicornWorker",
        "--workers",
        str(workers),
        "--bind",
        f"{host}:{port}",
        "--no-control-socket",
        # A page may wait for the model (with retries) before it answers.
        "--timeout",
        str(int(timeout) * 3 + 30),
        "--graceful-timeout",
        "20",
        "--max-requests",
        "5000",
        "--max-requests-jitter",
        "500",
    ]


def serve(host: str, port: int, workers: int) -> int:
    settings = check_settings()
    if settings is None:
        return 2
    metrics_dir = tempfile.mkdtemp(prefix="tickercast-web-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    from gunicorn.app.wsgiapp import WSGIApplication

    sys.argv = gunicorn_argv(host, port, max(1, workers), settings.model_api_timeout)
    print(f"tickercast web on http://{host}:{port} with {workers} worker(s)", flush=True)
    try:
        WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]").run()
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0
