"""Run the model service under gunicorn with uvicorn workers (`tickercast model`)."""

from __future__ import annotations

import sys

from fastapi import FastAPI

from tickercast.model.callers import warn_short_keys
from tickercast.model.prophet_seam.versions import UnsupportedProphet, check_prophet
from tickercast.runtime.serving import (
    configure_logging,
    gunicorn_options,
    load_settings,
    owned_folder,
    run_gunicorn,
)
from tickercast.settings import ModelSettings

HINT = "MODEL_API_KEYS must hold at least one key, e.g. MODEL_API_KEYS=$(openssl rand -hex 32)."


def serve(host: str, port: int, workers: int, mock: bool, parent: int | None = None) -> int:
    overrides = {"model_mock": True} if mock else {}
    settings = load_settings(ModelSettings, "tickercast model", HINT, **overrides)
    if settings is None:
        return 2
    if not settings.model_mock:
        try:
            check_prophet()  # before any worker starts: one clear line, not a worker per crash
        except UnsupportedProphet as exc:
            print(f"tickercast model: cannot start: {exc}", file=sys.stderr)
            return 2
    configure_logging(settings.log_level)
    warn_short_keys(settings.api_keys)
    kind = "mock" if settings.model_mock else "Prophet"
    print(f"tickercast model ({kind}) on http://{host}:{port} with {workers} worker(s)", flush=True)
    timeout = settings.model_fit_timeout + 30
    options = gunicorn_options(host, port, workers, timeout)
    recycle = (settings.max_requests, settings.max_requests_jitter)
    configure_logging(settings.log_level, settings.log_format)  # gunicorn's own lines too
    with owned_folder("tickercast-fit-slots-") as slots:  # the workers share their fit slots

        def app() -> FastAPI:  # called in each worker, with the settings read above
            from tickercast.model.api import create_app

            configure_logging(settings.log_level, settings.log_format)
            return create_app(settings, fit_slots_dir=slots)

        return run_gunicorn(options, app, *recycle, parent=parent)
