"""The web app's answers to errors: JSON under /api/, the error page elsewhere, with the
security headers (also on the answers to unexpected errors, which come from outside the
routes) and a Retry-After when the error has one."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from tickercast.errors import InvalidInput, NotFound, TickercastError, sentence
from tickercast.runtime.serving import json_error
from tickercast.web.deps import templates
from tickercast.web.headers import add_security_headers


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_response(
    request: Request, exc: TickercastError, headers: Mapping[str, str] | None = None
) -> Response:
    headers = dict(headers or {})
    if exc.retry_after:
        headers["Retry-After"] = str(exc.retry_after)
    message = sentence(exc.client_message)
    response: Response
    if is_api(request):
        response = json_error(exc.status, message, headers)
    else:
        response = templates(request).TemplateResponse(
            request,
            "error.html",
            {"message": message, "status": exc.status},
            status_code=exc.status,
            headers=headers,
        )
    add_security_headers(response.headers)
    return response


async def known(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TickercastError)
    return error_response(request, exc)


async def invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {}
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "query")
    return error_response(request, InvalidInput(f"{where}: {first.get('msg', 'unreadable')}"))


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        return error_response(request, NotFound("page not found"))
    error = TickercastError(str(exc.detail))
    error.status = exc.status_code
    return error_response(request, error, exc.headers)  # e.g. Allow on a 405


def add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(TickercastError, known)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)
