"""What the model service and the web app share in serving HTTP: settings that explain
themselves when missing, gunicorn with uvicorn workers, logging, a bounded request body, the
JSON error answer and Prometheus metrics added up across workers."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import uvicorn
from fastapi import Request
from fastapi.responses import Response
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from pydantic import ValidationError
from pydantic_settings import BaseSettings
from uvicorn_worker import UvicornWorker

from tickercast.errors import RequestTooLarge, error_body
from tickercast.runtime import lifeline, logs

if TYPE_CHECKING:
    # Imported where used: prometheus_client picks its multiprocess mode when first imported,
    # which must happen after `run_gunicorn` has set PROMETHEUS_MULTIPROC_DIR.
    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

S = TypeVar("S", bound=BaseSettings)
KEEP_ALIVE = 2  # seconds an idle kept-alive connection stays open (gunicorn's default)


def port_in_use(host: str, port: int) -> bool:
    """Whether something already listens on `host:port` (so a server could not bind it)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers bind
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def port_taken_message(host: str, port: int) -> str:
    other = 8001 if port != 8001 else 8002
    return (
        f"port {port} on {host} is in use (another server listens there); pick another, "
        f"e.g. `make run PORT={other}` or `--port {other}`"
    )


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


def configure_logging(level: str, form: logs.LogFormat = "auto") -> None:
    """Log lines on stderr: JSON, or short text lines for a terminal (`LOG_FORMAT`; see
    `tickercast.runtime.logs`)."""
    logs.configure_logging(level, form)


def gunicorn_options(host: str, port: int, workers: int, timeout: float) -> dict[str, Any]:
    """gunicorn's settings for one service, with uvicorn workers.

    No `preload_app`: each worker builds the app itself (a Prophet imported before the fork
    would share CmdStan's temp folder between workers). gunicorn's own `max_requests` stays
    off: `RetireAfter` replaces workers without cutting a kept-alive connection.
    """
    return {
        "bind": f"{host}:{port}",
        "workers": max(1, workers),
        "worker_class": "tickercast.runtime.serving.Worker",
        "control_socket_disable": True,
        "logger_class": "tickercast.runtime.logs.GunicornLogger",
        "timeout": int(timeout),
        "keepalive": KEEP_ALIVE,
        "graceful_timeout": 20,
        "child_exit": forget_worker_metrics,
    }


class Worker(UvicornWorker):
    """uvicorn's gunicorn worker, with its server kept where `stop_accepting` finds it."""

    async def _serve(self) -> None:
        # As uvicorn_worker's own, but the server is remembered before it starts serving.
        self.config.app = self.wsgi
        server = uvicorn.Server(config=self.config)
        _SERVERS.append(server)
        self._install_sigquit_handler()
        await server.serve(sockets=self.sockets)
        if not server.started:
            sys.exit(Arbiter.WORKER_BOOT_ERROR)


_SERVERS: list[uvicorn.Server] = []  # this worker's (one, under gunicorn; none in tests)


def stop_accepting() -> None:
    """This worker takes no new connection (the other workers and the master keep listening,
    so a new connection goes to another worker)."""
    for server in _SERVERS:
        for listening in getattr(server, "servers", []):
            stop_listening(listening)


def stop_listening(server: asyncio.Server) -> None:
    """Stop accepting on `server`'s sockets without closing it (uvicorn closes it when the worker
    shuts down). Closing it here would drop a connection accepted in the same instant: asyncio
    accepts, then sets the connection up in a later step, and a server closed in between refuses
    the new transport, so the accepted socket is closed unanswered and its client sees the
    connection broken."""
    loop = asyncio.get_running_loop()
    for sock in server.sockets:
        loop.remove_reader(sock.fileno())


class RetireAfter:
    """ASGI wrapper that has a worker replaced after `limit` requests, gently.

    gunicorn's `max_requests` closes the worker's kept-alive connections at once, and a client
    that was sending its next request on one sees the connection reset. Here, once `limit`
    requests have come in, the worker stops accepting connections at once (`stop_accepting`:
    any other worker takes the next), every answer from then on says `Connection: close` (the
    client opens a new connection elsewhere), and `grace` seconds later, when every connection
    has had its last answer or its keep-alive has run out, the worker asks itself to stop
    (SIGTERM: it finishes what it is serving, and the master starts a fresh one). So no
    connection is accepted, or kept open, in its last instant only to be closed unanswered.
    """

    def __init__(
        self,
        app: Any,
        limit: int,
        grace: float = KEEP_ALIVE + 1.0,
        stop: Callable[[], None] | None = None,
        stop_accepting: Callable[[], None] = stop_accepting,
    ) -> None:
        self.app = app
        self.limit = limit
        self.grace = grace
        self.count = 0
        self.retiring = False
        self._stop = stop or (lambda: os.kill(os.getpid(), signal.SIGTERM))
        self._stop_accepting = stop_accepting

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.count += 1
        if self.count >= self.limit and not self.retiring:
            self.retiring = True
            self._stop_accepting()
            asyncio.get_running_loop().call_later(self.grace, self._stop)

        async def closing(message: Any) -> None:
            # Decided when the answer starts: one that began before the worker retired ends
            # its connection too, so no request can come on it after the worker has gone.
            if message["type"] == "http.response.start" and self.retiring:
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"connection"
                ]
                message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        await self.app(scope, receive, closing)


def forget_worker_metrics(server: object, worker: Any) -> None:
    """gunicorn's `child_exit` hook (in the master): a worker that exited, for any cause, no
    longer counts in the live gauges; its counters stay in the totals."""
    from prometheus_client import multiprocess

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)


class _Gunicorn(BaseApplication):
    """gunicorn configured from a dict, serving the app `factory()` builds in each worker."""

    def __init__(
        self, options: dict[str, Any], factory: Callable[[], Any], max_requests: int, jitter: int
    ) -> None:
        self.options = options
        self.factory = factory
        self.max_requests = max_requests
        self.jitter = jitter
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self) -> Any:  # in each worker
        app = self.factory()
        if not self.max_requests:
            return app
        return RetireAfter(app, self.max_requests + random.randint(0, self.jitter))


@contextlib.contextmanager
def owned_folder(prefix: str) -> Iterator[str]:
    """A temporary folder removed when the block ends, but only by the process that made it:
    gunicorn workers are forked inside the block and leave it too when they exit."""
    creator = os.getpid()
    folder = tempfile.mkdtemp(prefix=prefix)
    try:
        yield folder
    finally:
        if os.getpid() == creator:
            shutil.rmtree(folder, ignore_errors=True)


def run_gunicorn(
    options: dict[str, Any],
    factory: Callable[[], Any],
    max_requests: int = 0,
    jitter: int = 0,
    parent: int | None = None,
) -> int:
    """Run gunicorn until it is stopped, each worker replaced after `max_requests` requests
    plus up to `jitter` (0: never); every worker's metrics go to a folder for this run. With
    `parent` (the process that started this one, `tickercast up`), stop once it has gone."""
    with owned_folder("tickercast-metrics-") as metrics_dir:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir  # prometheus_client's own setting
        if parent is not None:
            lifeline.watch_parent(parent)
        _Gunicorn(options, factory, max_requests, jitter).run()
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


def json_error(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    """An error as both services answer it: `{"message": ...}` as JSON, with `status` and
    `headers` (Retry-After, or Allow on a 405)."""
    return Response(error_body(message), status, headers=headers, media_type="application/json")


def route_metrics(
    requests_name: str, seconds_name: str, registry: CollectorRegistry, buckets: Sequence[float]
) -> tuple[Counter, Histogram]:
    """The per-request counter and latency histogram, by route and status code, that
    `logs.RequestLog` fills on either service."""
    from prometheus_client import Counter, Histogram

    requests = Counter(
        requests_name,
        "HTTP requests on every route, by route and status code.",
        ["route", "status"],
        registry=registry,
    )
    seconds = Histogram(
        seconds_name,
        "Time to answer an HTTP request, by route and status code.",
        ["route", "status"],
        buckets=buckets,
        registry=registry,
    )
    return requests, seconds


def redis_up_gauge(prefix: str, registry: CollectorRegistry) -> Gauge:
    """1 while every live worker reaches Redis (or none is configured), 0 while any does not."""
    from prometheus_client import Gauge

    return Gauge(
        f"{prefix}_redis_up",
        "1 when Redis answers or is not configured; 0 while serving without it.",
        registry=registry,
        multiprocess_mode="livemin",
    )


def prometheus_text(registry: CollectorRegistry) -> bytes:
    """This app's metrics, or every worker's added up when gunicorn runs several."""
    from prometheus_client import CollectorRegistry, generate_latest, multiprocess

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry)
