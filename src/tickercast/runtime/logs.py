"""Logs both services write: one JSON object a line, each carrying the request's id; or, for a
person at a terminal, short lines (time, level, message; a request as method, path, status and
milliseconds). `configure_logging(level, form)` chooses: `json`, `text`, or `auto` (text when
stderr is a terminal, else JSON).

A request's id comes from its `X-Request-ID` header when that is well formed (letters, digits
and `-_.:`, at most 128), else a new one is made; the answer echoes it, the web app sends it on
to the model service, so one click can be followed across both services' logs. `RequestLog`
also writes one access line per request (method, route, path, status, duration) and counts it
in the app's metrics.

What goes in a line is what the code passed to the logger: the project never logs a key, a
posted series or a provider URL's query string; the tests grep real processes' logs for them.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import sys
import time
import uuid
from typing import TYPE_CHECKING, Any, Literal, TextIO

from gunicorn.glogging import Logger

if TYPE_CHECKING:
    from prometheus_client import Counter, Histogram
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

LogFormat = Literal["auto", "json", "text"]
LOG_FORMATS: tuple[LogFormat, ...] = ("auto", "json", "text")
REQUEST_ID_HEADER = "X-Request-ID"
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "tickercast_request_id", default=None
)
access_log = logging.getLogger("tickercast.access")

# Attributes every LogRecord has; anything else was passed in `extra=` and joins the object.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def current_request_id() -> str | None:
    """The id of the request being served in this context (thread pools included), if any."""
    return _request_id.get()


def request_id_from(value: str | None) -> str:
    """`value` when it is a well-formed request id, else a new one."""
    if value and _WELL_FORMED.fullmatch(value):
        return value
    return uuid.uuid4().hex


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, process, message, request id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        request_id = current_request_id()
        if request_id:
            line["request_id"] = request_id
        for name, value in vars(record).items():
            if name not in _STANDARD and not name.startswith("_"):
                line[name] = value
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class TextFormatter(logging.Formatter):
    """A short line for a person: local time, level, message (an access line: method, path,
    status and milliseconds); a traceback below it when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(message)s", datefmt="%H:%M:%S")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = vars(record)
        if record.name == access_log.name and "duration_ms" in line:
            message = (
                f"{line['method']} {line['path']} {line['status']} {line['duration_ms']:.0f} ms"
            )
            record = logging.makeLogRecord({**line, "message": message})
        return super().formatMessage(record)


_form: LogFormat = "auto"  # what `configure_logging` chose last (gunicorn's logger uses it too)


def formatter_for(form: LogFormat, stream: TextIO) -> logging.Formatter:
    """JSON lines, or short text lines when asked for or, with `auto`, when `stream` is a
    terminal (a person reads it)."""
    if form == "text" or (form == "auto" and _is_terminal(stream)):
        return TextFormatter()
    return JsonFormatter()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no such method, or closed
        return False


def configure_logging(level: str, form: LogFormat = "auto") -> None:
    """Every log line of this process on stderr, as `formatter_for(form, stderr)` says."""
    global _form
    _form = form
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter_for(form, sys.stderr))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Our own access lines replace uvicorn's (which would log query strings in plain text).
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("cmdstanpy").disabled = True


class GunicornLogger(Logger):
    """gunicorn's logger writing lines as this process's own (uvicorn's error messages go
    through it too)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            stream = getattr(handler, "stream", sys.stderr)
            handler.setFormatter(formatter_for(_form, stream))


class RequestLog:
    """ASGI middleware: the request id, one access line and the request metrics per request."""

    def __init__(self, app: ASGIApp, requests: Counter, seconds: Histogram) -> None:
        self.app = app
        self.requests = requests
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = request_id_from(incoming)
        token = _request_id.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            self.requests.labels(route, str(status)).inc()
            self.seconds.labels(route, str(status)).observe(elapsed)
            access_log.info(
                "%s %s %d",
                scope.get("method", ""),
                route,
                status,
                extra={
                    "method": scope.get("method", ""),
                    "route": route,
                    "path": scope.get("path", ""),
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 1),
                },
            )
            _request_id.reset(token)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None
