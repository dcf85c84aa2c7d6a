"""The web app's only way to the model: HTTP (docs/contract.md) through one async httpx client
per process (made with the app, closed when it stops).

Every failure becomes a `TickercastError` whose message is a sentence a user can read:

    connection failure,    retried up to `retries` times, all within `timeout` seconds of the
    502                    first try; a connection that broke mid-answer, or a kept-alive one a
                           replaced worker closed, too (`DROPPED_CONNECTIONS` more times: a dead
                           worker's pooled connections each fail once): the answer is
                           deterministic, so asking again is safe; when every try failed,
                           ServiceBusy (503, with Retry-After: a moment's outage, not the
                           request's fault)
    503, 429 (busy)        waited out: asked again after each Retry-After, for as long as that
                           fits in `busy_wait` seconds (and in `timeout`), then ServiceBusy (503)
    429 wrong keys         UpstreamError (502): this app's key was refused ("check
                           MODEL_API_KEY" in the log), never retried
    timeout                ModelTimeout (504): "did not answer within N seconds"
    400 from the model     ModelRejected (400): the model's own reason (also in `.detail`)
    401 / 403              UpstreamError (502): the key was refused (details in the log)
    other failures         UpstreamError (502)

A password in the URL (`http://user:pw@host/`) is sent as HTTP Basic auth and never shown:
the client's URL, httpx's request log line and every message carry the URL without it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote, urlsplit, urlunsplit

import anyio
import httpx
import orjson

from tickercast.contract import DEFAULT_INTERVAL_WIDTH, MODEL_VERSION_HEADER, RESPONSE_KEYS
from tickercast.errors import ServiceBusy, TickercastError, UpstreamError
from tickercast.runtime.logs import REQUEST_ID_HEADER, current_request_id

log = logging.getLogger("tickercast.web.model")

UNREACHABLE = "The forecasting service could not be reached."
# What a user is asked to wait when the model service cannot be reached: a moment's outage
# (a replica restarting, a partition), answered 503 with Retry-After like a busy model.
UNREACHABLE_RETRY = 30
BUSY = "The forecasting service is busy; please try again in a minute."
KEY_REFUSED = "The forecasting service refused this app's key."
WRONG_KEYS = "too many wrong keys"  # the model's 429 to a client whose keys it refused
# Seconds a request may wait out a busy model, all tries included: a page's request must end
# before a router's own limit (Heroku's: 30 s).
BUSY_WAIT = 25.0

Kind = Literal["forecast", "backtest"]  # the model's POST / and POST /backtest
UNKNOWN_VERSION = "unknown"


@dataclass(frozen=True)
class ModelAnswer:
    content: bytes  # the answer as it came
    version: str  # the model's X-Model-Version


def without_userinfo(url: str) -> tuple[str, tuple[str, str] | None]:
    """`url` without its `user:password@` part, and that user and password (or None)."""
    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at:
        return url, None
    user, _, password = userinfo.partition(":")
    return urlunsplit(parts._replace(netloc=host)), (unquote(user), unquote(password))


# The connection failed, or broke before the whole answer came (a replica died answering, or a
# model worker being replaced closed a kept-alive connection): a forecast is deterministic, so
# asking again is safe.
RETRYABLE = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.NetworkError,  # ReadError, WriteError, CloseError
    httpx.RemoteProtocolError,
)
NOT_CONNECTED = (httpx.ConnectError, httpx.ConnectTimeout)  # the others: a connection dropped
# Tries beyond `retries` for a dropped connection: when a worker dies, every kept-alive
# connection to it fails at once, one try each, and the pool may hold several of them.
DROPPED_CONNECTIONS = 4


class ModelTimeout(UpstreamError):
    status = 504
    public_message = "The forecasting service did not answer in time."


class ModelRejected(TickercastError):
    """The model refused the series itself (too short, unreadable values...)."""

    status = 400
    public_message = "The forecasting service could not use this series."

    def __init__(self, detail: str) -> None:
        super().__init__(f"The forecasting service could not use this series: {detail}.")
        self.detail = detail


# What a backtest answer must hold (the model's POST /backtest).
BACKTEST_KEYS = ("method", "horizon", "interval_width", "folds", "scores", "verdict")


def model_request(
    ds: Sequence[str],
    y: Sequence[float | None],
    freq: str | None = None,
    interval_width: float = DEFAULT_INTERVAL_WIDTH,
    method: str | None = None,
    levels: Sequence[float] = (),
    **steps: int,
) -> dict[str, Any]:
    """A request's body without the key: every field that determines the answer. `steps`:
    `periods` (a forecast) or `horizon` and `cutoffs` (a backtest); `method` None leaves the
    model's default (plain Prophet); `levels`, when given, the central intervals (percent)
    whose quantiles the answer adds."""
    body: dict[str, Any] = {"ds": list(ds), "y": list(y), **steps, "interval_width": interval_width}
    if freq is not None:
        body["freq"] = freq
    if method is not None:
        body["method"] = method
    if levels:
        body["levels"] = list(levels)
    return body


@dataclass(frozen=True)
class BatchAnswer:
    """A batch's outcome, by series id: its answer's bytes or its error (never both)."""

    answers: dict[str, bytes]
    errors: dict[str, TickercastError]
    version: str  # the model's X-Model-Version


class ModelClient:
    """POSTs a series to the model service: its forecast or its backtest, as it came."""

    def __init__(
        self,
        url: str,
        key: str,
        *,
        timeout: float = 25.0,
        retries: int = 2,
        busy_wait: float = BUSY_WAIT,
        transport: httpx.AsyncBaseTransport | None = None,
        backoff: float = 0.25,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url, auth = without_userinfo(url)
        self._secrets = [secret for secret in (key, auth[1] if auth else "") if secret]
        self._key = key
        self.timeout = timeout
        self.retries = retries
        self.busy_wait = busy_wait
        self.backoff = backoff
        self._sleep = sleep
        self._clock = clock
        self._transport = transport
        self._auth = httpx.BasicAuth(*auth) if auth else None
        self._client = self._connections()

    def _connections(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=self._transport,
            timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 5.0)),
            auth=self._auth,
        )

    def reopen(self) -> None:
        """Ready to send again after `aclose` (an app started a second time)."""
        if self._client.is_closed:
            self._client = self._connections()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> ModelClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def answer(self, kind: Kind, request: Mapping[str, Any]) -> bytes:
        """The model's answer to `request` (a body without the key) as it came, checked to be
        a forecast or a backtest (`kind`)."""
        return (await self.versioned_answer(kind, request)).content

    async def versioned_answer(self, kind: Kind, request: Mapping[str, Any]) -> ModelAnswer:
        """`answer`, with the model version that made it."""
        url = self.backtest_url if kind == "backtest" else self.url
        response = await self._post(url, orjson.dumps({"key": self._key, **request}))
        _check_answer(kind, self._read(response))
        return ModelAnswer(
            response.content, response.headers.get(MODEL_VERSION_HEADER, UNKNOWN_VERSION)
        )

    async def batch(
        self,
        kind: Kind,
        shared: Mapping[str, Any],
        items: Mapping[str, Mapping[str, Any]],
        timeout: float | None = None,
    ) -> BatchAnswer:
        """Many series in one request (the model's POST /batch, or POST /backtest with
        `series`): `shared` holds the fields common to all, `items` each series' own (`ds`,
        `y`, and `periods`/`horizon`, `freq`) by id. Each answer comes as its single request's
        bytes would; each failed series as the error its single request would raise. The whole
        request fails as a single one does (busy, unreachable, key refused); `timeout`
        (default: the client's) bounds it, all tries included."""
        url = self.backtest_url if kind == "backtest" else self.batch_url
        series = [{"id": name, **fields} for name, fields in items.items()]
        body = orjson.dumps({"key": self._key, **shared, "series": series})
        response = await self._post(url, body, timeout)
        data = self._read(response)
        answered = data.get("backtests" if kind == "backtest" else "forecasts")
        failed = data.get("errors")
        if not isinstance(answered, dict) or not isinstance(failed, dict):
            raise _unreadable(ValueError("the batch answer lacks its answers or errors"))
        answers: dict[str, bytes] = {}
        errors: dict[str, TickercastError] = {}
        for name in items:
            if name in answered and isinstance(answered[name], dict):
                _check_answer(kind, answered[name])
                answers[name] = orjson.dumps(answered[name])
            else:
                errors[name] = self._item_error(failed.get(name))
        version = response.headers.get(MODEL_VERSION_HEADER, UNKNOWN_VERSION)
        return BatchAnswer(answers, errors, version)

    def _item_error(self, error: object) -> TickercastError:
        """The error a batch answered for one series, as its single request would raise it."""
        if not isinstance(error, dict):
            return UpstreamError("The forecasting service did not answer this series.")
        status = error.get("status")
        message = str(error.get("message") or "")
        if status == 400:
            return ModelRejected(message.removeprefix("invalid input: ") or "unreadable input")
        if status in (429, 503):
            wait = error.get("retry_after")
            return ServiceBusy(BUSY, retry_after=wait if isinstance(wait, int) else 30)
        log.error("model service failed a series (%s): %s", status, self._hide_text(message))
        return UpstreamError(f"The forecasting service failed (HTTP {status}).")

    @property
    def backtest_url(self) -> str:
        return self.url.rstrip("/") + "/backtest"

    @property
    def batch_url(self) -> str:
        return self.url.rstrip("/") + "/batch"

    @staticmethod
    def _read(response: httpx.Response) -> dict[str, Any]:
        try:
            data = orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise _unreadable(exc) from None
        if not isinstance(data, dict):
            raise _unreadable(TypeError("the answer is not a JSON object"))
        return data

    async def _post(self, url: str, content: bytes, timeout: float | None = None) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        request_id = current_request_id()
        if request_id:  # the model service logs it too: one click, followed across both
            headers[REQUEST_ID_HEADER] = request_id
        timeout = self.timeout if timeout is None else timeout
        started = self._clock()
        deadline = started + timeout
        busy_until = started + min(timeout, self.busy_wait)
        broken = 0  # tries that failed on the wire (or at a load balancer)
        while True:
            left = deadline - self._clock()
            if left <= 0:
                raise self._timeout(timeout)
            try:
                response = await self._client.post(
                    url,
                    content=content,
                    headers=headers,
                    timeout=httpx.Timeout(left, connect=min(left, 5.0)),
                )
            except RETRYABLE as exc:
                # Nothing reached the model, or its replica died answering (a load balancer
                # passes that on as a broken connection), or a worker being replaced closed
                # the kept-alive connection: the same request gives the same answer, so it is
                # safe to try again after a short pause.
                dropped = not isinstance(exc, NOT_CONNECTED)
                tries = self.retries + (DROPPED_CONNECTIONS if dropped else 0)
                wait = self.backoff * 2 ** min(broken, self.retries)
                if broken >= tries or self._clock() + wait >= deadline:
                    log.warning("model service unreachable at %s: %s", url, self._hide(exc))
                    raise ServiceBusy(UNREACHABLE, retry_after=UNREACHABLE_RETRY) from None
                await self._sleep(wait)
                broken += 1
                continue
            except httpx.TimeoutException:
                raise self._timeout(timeout) from None
            except httpx.TransportError as exc:
                log.warning("model service connection failed at %s: %s", url, self._hide(exc))
                raise ServiceBusy(UNREACHABLE, retry_after=UNREACHABLE_RETRY) from None
            status = response.status_code
            if status == 502 and broken < self.retries:
                # Never the model's own answer: a load balancer's that found no replica.
                wait = self.backoff * 2**broken
                if self._clock() + wait < deadline:
                    await self._sleep(wait)
                    broken += 1
                    continue
            if status in (429, 503) and not _wrong_keys(response):
                # Busy: honour Retry-After, for as long as the wait fits.
                wait = _retry_after(response) or self.backoff
                if self._clock() + wait < min(busy_until, deadline):
                    await self._sleep(wait)
                    continue
            if status == 200:
                return response
            raise self._error_for(response)

    def _timeout(self, timeout: float) -> ModelTimeout:
        # Like an unreachable model: a moment's outage, so the user is told when to ask again.
        return ModelTimeout(
            f"The forecasting service did not answer within {timeout:g} seconds.",
            retry_after=UNREACHABLE_RETRY,
        )

    def _hide(self, exc: Exception) -> str:
        return self._hide_text(str(exc))

    def _hide_text(self, text: str) -> str:
        """`text` with the key and the URL's password masked."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _error_for(self, response: httpx.Response) -> TickercastError:
        status = response.status_code
        message = _message_of(response)
        if status == 400:
            detail = message.removeprefix("invalid input: ") if message else "unreadable input"
            return ModelRejected(detail)
        if status in (401, 403) or _wrong_keys(response):
            log.error(
                "the model service refused this app's key (%d %s): check MODEL_API_KEY",
                status,
                self._hide_text(message),
            )
            return UpstreamError(KEY_REFUSED)
        if status in (429, 503):
            return ServiceBusy(BUSY, retry_after=_retry_after(response) or 30)
        log.error("model service answered %d: %s", status, self._hide_text(message))
        return UpstreamError(f"The forecasting service failed (HTTP {status}).")


def _check_answer(kind: Kind, data: Mapping[str, Any]) -> None:
    """UpstreamError unless `data` holds what a forecast or a backtest (`kind`) must."""
    if kind == "backtest":
        missing = [k for k in BACKTEST_KEYS if k not in data]
        scores = data.get("scores")
        if missing or not isinstance(scores, dict) or "random_walk" not in scores:
            raise _unreadable(ValueError(f"backtest lacks {missing or 'scores'}"))
    else:
        missing = [k for k in RESPONSE_KEYS if k not in data]
        if missing:
            raise _unreadable(ValueError(f"response lacks {missing}"))


def _retry_after(response: httpx.Response) -> int | None:
    header = response.headers.get("Retry-After", "")
    return int(header) if header.isdigit() else None


def _wrong_keys(response: httpx.Response) -> bool:
    """The model's failed-key limiter refused this app (429 "too many wrong keys"): its key
    is wrong, it is not busy."""
    return response.status_code == 429 and WRONG_KEYS in _message_of(response)


def _unreadable(exc: Exception) -> UpstreamError:
    log.error("unreadable answer from the model service: %s", exc)
    return UpstreamError("The forecasting service sent an answer we cannot read.")


def _message_of(response: httpx.Response) -> str:
    try:
        data = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return ""
    message = data.get("message") if isinstance(data, dict) else None
    return str(message) if message else ""
