"""Run the model service under gunicorn with uvicorn workers (`tickercast model`)."""

from __future__ import annotations

import os
import tempfile

from tickercast.model.slots import FIT_SLOTS_DIR
from tickercast.serving import gunicorn_argv, load_settings, run_gunicorn
from tickercast.settings import ModelSettings

HINT = "MODEL_API_KEYS must hold at least one key, e.g. MODEL_API_KEYS=$(openssl rand -hex 16)."


def serve(host: str, port: int, workers: int, mock: bool) -> int:
    overrides = {"model_mock": True} if mock else {}
    settings = load_settings(ModelSettings, "tickercast model", HINT, **overrides)
    if settings is None:
        return 2
    if mock:
        os.environ["MODEL_MOCK"] = "true"
    slots_dir = tempfile.mkdtemp(prefix="tickercast-fit-slots-")
    os.environ[FIT_SLOTS_DIR] = slots_dir  # the workers share their fit slots through it
    kind = "mock" if mock else "Prophet"
    print(f"tickercast model ({kind}) on http://{host}:{port} with {workers} worker(s)", flush=True)
    timeout = settings.model_fit_timeout + 30
    return run_gunicorn(
        gunicorn_argv("tickercast.model.api:app_from_env()", host, port, workers, timeout)
    )
