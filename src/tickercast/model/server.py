"""Run the model service under gunicorn with uvicorn workers.

Workers are not forked from a parent that imported Prophet (no `--preload`): CmdStan's temp
folder must not be shared between workers. Each worker imports Prophet itself and warms up.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

from pydantic import ValidationError

from tickercast.settings import ModelSettings


def check_settings(mock: bool) -> ModelSettings | None:
    try:
        return ModelSettings(model_mock=mock) if mock else ModelSettings()  # type: ignore[call-arg]
    except ValidationError as exc:
        fields = ", ".join(str(err["loc"][0]).upper() for err in exc.errors() if err["loc"])
        print(
            f"tickercast model: cannot start: check {fields or 'the settings'}. "
            "MODEL_API_KEYS must hold at least one key, "
            "e.g. MODEL_API_KEYS=$(openssl rand -hex 16).",
            file=sys.stderr,
        )
        return None


def gunicorn_argv(host: str, port: int, workers: int, timeout: float) -> list[str]:
    return [
        "gunicorn",
        "tickercast.model.api:app_from_env()",
        "--worker-class",
        "uvicorn_worker.UvicornWorker",
        "--workers",
        str(workers),
        "--bind",
        f"{host}:{port}",
        "--no-control-socket",
        "--timeout",
        str(int(timeout) + 30),
        "--graceful-timeout",
        "20",
        "--max-requests",
        "5000",
        "--max-requests-jitter",
        "500",
    ]


def serve(host: str, port: int, workers: int, mock: bool) -> int:
    settings = check_settings(mock)
    if settings is None:
        return 2
    if mock:
        os.environ["MODEL_MOCK"] = "true"
    metrics_dir = tempfile.mkdtemp(prefix="tickercast-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    from gunicorn.app.wsgiapp import WSGIApplication

    sys.argv = gunicorn_argv(host, port, max(1, workers), settings.model_fit_timeout)
    kind = "mock" if mock else "Prophet"
    print(f"tickercast model ({kind}) on http://{host}:{port} with {workers} worker(s)", flush=True)
    try:
        WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]").run()
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0
