"""Security headers on every response, and static files a browser may keep.

The Content-Security-Policy allows only this site's own scripts, styles, fonts and requests
(the pages' JSON sits in `<script type="application/json">`, which is data, not code). Styles
also allow inline ones: Plotly sets them on the elements it draws. Nothing may frame the pages.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def add_security_headers(headers: MutableHeaders) -> None:
    for name, value in SECURITY_HEADERS.items():
        headers.setdefault(name, value)


class SecurityHeaders:
    """ASGI middleware: SECURITY_HEADERS on every HTTP response that does not set its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                add_security_headers(MutableHeaders(scope=message))
            await send(message)

        await self.app(scope, receive, send_secured)


class CachedStaticFiles(StaticFiles):
    """Static files with `Cache-Control`; ETag, Last-Modified, 304 and HEAD are Starlette's.
    `only`, when given, is the set of file names served (the rest of the folder is not)."""

    def __init__(
        self, *, directory: str | os.PathLike[str], max_age: int, only: Iterable[str] = ()
    ) -> None:
        super().__init__(directory=directory)
        self.cache_control = f"public, max-age={max_age}"
        self.only = frozenset(only)

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        if self.only and path not in self.only:
            return "", None
        return super().lookup_path(path)

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = self.cache_control
        return response
