"""Unexpected errors: a generic 500 to the client, and a log a caller cannot flood.

The first error of each kind (exception type and the line that raised it) is logged with a
short traceback; after that, one line each, with how many of that kind were seen. The message
of the exception is cut short too (a library's message can run to kilobytes). Starlette's own
handler for `Exception` re-raises after answering, so the server logs the full traceback again;
`ContainUnexpected` sits inside it and answers instead, so nothing is re-raised.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

MAX_KINDS = 256
MAX_MESSAGE = 300

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class UnexpectedErrors:
    def __init__(self, logger: logging.Logger) -> None:
        self.log = logger
        self.seen: dict[tuple[str, str], int] = {}

    def report(self, where: str, exc: BaseException) -> None:
        frames = traceback.extract_tb(exc.__traceback__)
        origin = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
        kind = (type(exc).__name__, origin)
        message = str(exc)
        if len(message) > MAX_MESSAGE:
            message = message[:MAX_MESSAGE] + f"... ({len(message)} characters)"
        count = self.seen.get(kind, 0) + 1
        if count == 1 and len(self.seen) >= MAX_KINDS:
            self.log.error("unexpected error on %s: %s at %s", where, kind[0], origin)
            return
        self.seen[kind] = count
        if count == 1:
            stack = "".join(traceback.format_list(frames[-12:]))
            self.log.error(
                "unexpected error on %s: %s: %s\n%s(later ones of this kind: one line each)",
                where,
                kind[0],
                message,
                stack,
            )
        else:
            self.log.error(
                "unexpected error on %s: %s: %s at %s (%d of this kind)",
                where,
                kind[0],
                message,
                origin,
                count,
            )


class ContainUnexpected:
    """ASGI middleware: an exception that escapes the app becomes `answer(scope)` (an ASGI
    app: the service's generic 500 for that request), reported once. Both services use it."""

    def __init__(
        self,
        app: ASGIApp,
        errors: UnexpectedErrors,
        answer: Callable[[Scope], Any],
    ) -> None:
        self.app = app
        self.errors = errors
        self.answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            self.errors.report(f"{scope.get('method')} {scope.get('path')}", exc)
            if not started:
                await self.answer(scope)(scope, receive, send)
