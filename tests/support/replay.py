"""A local HTTP server that replays recorded provider responses, so no test reaches the internet.

Each JSON file in a fixtures folder is one exchange:

    {"about": "...",
     "request": {"path": "/tiingo/daily/AAPL/prices", "query": {"startDate": "2013-02-20", ...},
                 "headers": {"Authorization": "Token ..."}},          # headers: optional subset
     "response": {"status": 200, "headers": {...}, "body": <JSON> | "body_text": "...",
                  "delay": 5}}                                         # delay: optional seconds

A request matches a file when its path and its whole query are equal and it carries the
file's headers. An unmatched request gets a 599 and is kept in `unmatched`. Every request is
counted in `requests`, so a test can assert how often the provider was asked.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass(frozen=True)
class Seen:
    path: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass
class Exchange:
    name: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    status: int
    response_headers: dict[str, str]
    body: bytes
    delay: float

    @classmethod
    def load(cls, file: Path) -> Exchange:
        recorded = json.loads(file.read_text())
        request, response = recorded["request"], recorded["response"]
        if "body_text" in response:
            body = response["body_text"].encode()
        else:
            body = json.dumps(response["body"]).encode()
        return cls(
            name=file.stem,
            path=request["path"],
            query=request.get("query", {}),
            headers={k.lower(): v for k, v in request.get("headers", {}).items()},
            status=response["status"],
            response_headers=response.get("headers", {}),
            body=body,
            delay=float(response.get("delay", 0)),
        )

    def matches(self, seen: Seen) -> bool:
        return (
            self.path == seen.path
            and self.query == seen.query
            and all(seen.headers.get(k) == v for k, v in self.headers.items())
        )


@dataclass
class ReplayServer:
    folder: Path
    exchanges: list[Exchange] = field(default_factory=list)
    requests: list[Seen] = field(default_factory=list)
    unmatched: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.exchanges = [Exchange.load(f) for f in sorted(self.folder.glob("*.json"))]
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.replay = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def count(self, path: str | None = None) -> int:
        with self._lock:
            return sum(1 for r in self.requests if path is None or r.path == path)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.unmatched.clear()

    def find(self, seen: Seen) -> Exchange | None:
        with self._lock:
            self.requests.append(seen)
            for exchange in self.exchanges:
                if exchange.matches(seen):
                    return exchange
            self.unmatched.append(seen)
            return None

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()  # wakes delayed answers
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    replay: ReplayServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (the timeout tests) is expected; stay quiet."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        parts = urlsplit(self.path)
        seen = Seen(
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
        )
        replay = self.server.replay
        exchange = replay.find(seen)
        if exchange is None:
            self._send(599, {"Content-Type": "text/plain"}, b"no recorded response")
            return
        if exchange.delay and replay.stopping.wait(exchange.delay):
            return
        self._send(exchange.status, exchange.response_headers, exchange.body)

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped waiting

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve(folder: Path) -> Iterator[ReplayServer]:
    """For a fixture: `yield from serve(folder)`."""
    with ReplayServer(folder) as server:
        yield server
