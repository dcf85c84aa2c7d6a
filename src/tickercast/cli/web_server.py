"""Run the web app under gunicorn with uvicorn workers (`tickercast web`).

The web app never imports Prophet, so a worker stays small (a 512 MB dyno holds two).
"""

from __future__ import annotations

import sys

from fastapi import FastAPI

from tickercast.runtime.serving import (
    configure_logging,
    gunicorn_options,
    load_settings,
    port_in_use,
    port_taken_message,
    run_gunicorn,
)
from tickercast.settings import WebSettings

HINT = (
    "The web app needs MODEL_API_URL (where the model service answers, e.g. "
    "http://127.0.0.1:9000/) and MODEL_API_KEY (one of that service's MODEL_API_KEYS). "
    "To run everything on one machine instead, use `tickercast up`."
)


def serve(host: str, port: int, workers: int, parent: int | None = None) -> int:
    settings = load_settings(WebSettings, "tickercast web", HINT)
    if settings is None:
        return 2
    if port_in_use(host, port):
        print(f"tickercast web: {port_taken_message(host, port)}", file=sys.stderr)
        return 1
    print(f"tickercast web on http://{host}:{port} with {workers} worker(s)", flush=True)

    def app() -> FastAPI:  # called in each worker
        from tickercast.web.app import create_app

        configure_logging(settings.log_level, settings.log_format)
        return create_app(settings)

    # A page may wait for the model, with retries, before it answers.
    timeout = settings.model_api_timeout * 3 + 30
    options = gunicorn_options(host, port, workers, timeout)
    recycle = (settings.max_requests, settings.max_requests_jitter)
    configure_logging(settings.log_level, settings.log_format)  # gunicorn's own lines too
    return run_gunicorn(options, app, *recycle, parent=parent)
