"""What the model service and the web app share in serving HTTP: settings that explain
themselves when missing, gunicorn with uvicorn workers, logging, a bounded request body and
Prometheus metrics added up across workers."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import Request
from pydantic import ValidationError
from pydantic_settings import BaseSettings

from tickercast import logs
from tickercast.errors import RequestTooLarge

if TYPE_CHECKING:
    # Imported where used: prometheus_client picks its multiprocess mode when first imported,
    # which must happen after `run_gunicorn` has set PROMETHEUS_MULTIPROC_DIR.
    from prometheus_client import CollectorRegistry

S = TypeVar("S", bound=BaseSettings)


def load_settings(cls: type[S], program: str, hint: str, **overrides: Any) -> S | None:
    """The settings from the environment, or None after saying on stderr which are wrong."""
    try:
        return cls(**overrides)
    except ValidationError as exc:
        names = sorted({str(err["loc"][0]).upper() for err in exc.errors() if err["loc"]})
        print(
            f"{program}: cannot start: check {', '.join(names) or 'the settings'}. {hint}",
            file=sys.stderr,
        )
        return None


def configure_logging(level: str) -> None:
    """JSON log lines on stderr (see `tickercast.logs`)."""
    logs.configure_logging(level)


def gunicorn_argv(app: str, host: str, port: int, workers: int, timeout: float) -> list[str]:
    """gunicorn serving `app` ("module:factory()") with uvicorn workers.

    No `--preload`: each worker imports the app itself (a Prophet imported before the fork
    would share CmdStan's temp folder between workers).
    """
    return [
        "gunicorn",
        app,
        "--worker-class=uvicorn_worker.UvicornWorker",
        f"--workers={max(1, workers)}",
        f"--bind={host}:{port}",
        "--no-control-socket",
        "--logger-class=tickercast.logs.GunicornLogger",
        f"--timeout={int(timeout)}",
        "--graceful-timeout=20",
        "--max-requests=5000",
        "--max-requests-jitter=500",
    ]


def run_gunicorn(argv: list[str]) -> int:
    """Run gunicorn until it is stopped; every worker's metrics go to a folder for this run."""
    from gunicorn.app.wsgiapp import WSGIApplication

    metrics_dir = tempfile.mkdtemp(prefix="tickercast-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    sys.argv = argv
    try:
        WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]").run()
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it is known to pass `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise RequestTooLarge()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


def prometheus_text(registry: CollectorRegistry) -> bytes:
    """This app's metrics, or every worker's added up when gunicorn runs several."""
    from prometheus_client import CollectorRegistry, generate_latest, multiprocess

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry)
