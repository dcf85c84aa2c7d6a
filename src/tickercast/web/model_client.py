"""The web app's only way to the model: HTTP (docs/contract.md) through an injected httpx client.

Every failure becomes a `TickercastError` whose message is a sentence a user can read:

    connection failure,    retried up to `retries` times, all within `timeout` seconds of the
    503, 429, 502          first try (503 and 429 wait their Retry-After, capped at
                           `retry_after_cap` seconds); a connection that broke mid-answer, or
                           a kept-alive one a replaced worker closed, too: the answer is
                           deterministic, so asking again is safe
    timeout                ModelTimeout (504): "did not answer within N seconds"
    400 from the model     ModelRejected (400): the model's own reason (also in `.detail`)
    401 / 403              UpstreamError (502): the key was refused (details in the log)
    other failures         UpstreamError (502) or ServiceBusy (503)

A password in the URL (`http://user:pw@host/`) is sent as HTTP Basic auth and never shown:
the client's URL, httpx's request log line and every message carry the URL without it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx
import orjson
import pandas as pd

from tickercast.contract import RESPONSE_KEYS, response_frame
from tickercast.errors import ServiceBusy, TickercastError, UpstreamError
from tickercast.logs import REQUEST_ID_HEADER, current_request_id

log = logging.getLogger("tickercast.web.model")

UNREACHABLE = "The forecasting service could not be reached."
BUSY = "The forecasting service is busy; please try again in a minute."

Kind = Literal["forecast", "backtest"]  # the model's POST / and POST /backtest
MODEL_VERSION_HEADER = "X-Model-Version"  # the model's engine and release, e.g. "fast/0.1.0"
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


# 429 and 503: busy, come back after Retry-After. 502: never the model service's own answer,
# a load balancer's that found no replica to answer this time (one just died).
RETRIED_STATUSES = (429, 502, 503)


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
    interval_width: float = 0.8,
    method: str | None = None,
    **steps: int,
) -> dict[str, Any]:
    """A request's body without the key: every field that determines the answer. `steps`:
    `periods` (a forecast) or `horizon` and `cutoffs` (a backtest); `method` None leaves the
    model's default (plain Prophet)."""
    body: dict[str, Any] = {"ds": list(ds), "y": list(y), **steps, "interval_width": interval_width}
    if freq is not None:
        body["freq"] = freq
    if method is not None:
        body["method"] = method
    return body


class ModelClient:
    """POSTs a series to the model service: its forecast as a table, or its backtest."""

    def __init__(
        self,
        url: str,
        key: str,
        *,
        timeout: float = 60.0,
        retries: int = 2,
        client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        retry_after_cap: float = 5.0,
        backoff: float = 0.25,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url, auth = without_userinfo(url)
        self._secrets = [secret for secret in (key, auth[1] if auth else "") if secret]
        self._key = key
        self.timeout = timeout
        self.retries = retries
        self.retry_after_cap = retry_after_cap
        self.backoff = backoff
        self._sleep = sleep
        self._clock = clock
        self._owns_client = client is None
        self._client = client or httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            auth=httpx.BasicAuth(*auth) if auth else None,
        )

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> ModelClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def forecast(
        self,
        ds: Sequence[str],
        y: Sequence[float | None],
        *,
        periods: int,
        freq: str | None = None,
        interval_width: float = 0.8,
        method: str | None = None,
    ) -> pd.DataFrame:
        """The `periods` future rows, with every key of RESPONSE_KEYS, `ds` as timestamps.

        `method` None leaves the model's default (plain Prophet)."""
        request = model_request(ds, y, freq, interval_width, method, periods=periods)
        return response_frame(orjson.loads(self.answer("forecast", request)))

    def backtest(
        self,
        ds: Sequence[str],
        y: Sequence[float | None],
        *,
        horizon: int,
        cutoffs: int,
        freq: str | None = None,
        interval_width: float = 0.8,
        method: str | None = None,
    ) -> dict[str, Any]:
        """The model's rolling-origin backtest (POST /backtest): folds, scores by method and
        by horizon step, and its one-sentence verdict, as the model sent them."""
        request = model_request(
            ds, y, freq, interval_width, method, horizon=horizon, cutoffs=cutoffs
        )
        data: dict[str, Any] = orjson.loads(self.answer("backtest", request))
        return data

    def answer(self, kind: Kind, request: Mapping[str, Any]) -> bytes:
        """The model's answer to `request` (a body without the key) as it came, checked to be
        a forecast or a backtest (`kind`)."""
        return self.versioned_answer(kind, request).content

    def versioned_answer(self, kind: Kind, request: Mapping[str, Any]) -> ModelAnswer:
        """`answer`, with the model version that made it."""
        url = self.backtest_url if kind == "backtest" else self.url
        response = self._post(url, orjson.dumps({"key": self._key, **request}))
        data = self._read(response)
        if kind == "backtest":
            missing = [k for k in BACKTEST_KEYS if k not in data]
            scores = data.get("scores")
            if missing or not isinstance(scores, dict) or "random_walk" not in scores:
                raise _unreadable(ValueError(f"backtest lacks {missing or 'scores'}"))
        else:
            missing = [k for k in RESPONSE_KEYS if k not in data]
            if missing:
                raise _unreadable(ValueError(f"response lacks {missing}"))
        return ModelAnswer(
            response.content, response.headers.get(MODEL_VERSION_HEADER, UNKNOWN_VERSION)
        )

    @property
    def backtest_url(self) -> str:
        return self.url.rstrip("/") + "/backtest"

    @staticmethod
    def _read(response: httpx.Response) -> dict[str, Any]:
        try:
            data = orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise _unreadable(exc) from None
        if not isinstance(data, dict):
            raise _unreadable(TypeError("the answer is not a JSON object"))
        return data

    def _post(self, url: str, content: bytes) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        request_id = current_request_id()
        if request_id:  # the model service logs it too: one click, followed across both
            headers[REQUEST_ID_HEADER] = request_id
        deadline = self._clock() + self.timeout
        attempt = 0
        while True:
            left = deadline - self._clock()
            if left <= 0:
                raise self._timeout()
            try:
                response = self._client.post(
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
                wait = self.backoff * 2**attempt
                if attempt >= self.retries or self._clock() + wait >= deadline:
                    log.warning("model service unreachable at %s: %s", url, self._hide(exc))
                    raise UpstreamError(UNREACHABLE) from None
                self._sleep(wait)
                attempt += 1
                continue
            except httpx.TimeoutException:
                raise self._timeout() from None
            except httpx.TransportError as exc:
                log.warning("model service connection failed at %s: %s", url, self._hide(exc))
                raise UpstreamError(UNREACHABLE) from None
            if response.status_code in RETRIED_STATUSES and attempt < self.retries:
                wait = self._wait_for(response, attempt)
                if self._clock() + wait < deadline:
                    self._sleep(wait)
                    attempt += 1
                    continue
            if response.status_code == 200:
                return response
            raise self._error_for(response)

    def _timeout(self) -> ModelTimeout:
        return ModelTimeout(
            f"The forecasting service did not answer within {self.timeout:g} seconds."
        )

    def _hide(self, exc: Exception) -> str:
        return self._hide_text(str(exc))

    def _hide_text(self, text: str) -> str:
        """`text` with the key and the URL's password masked."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _wait_for(self, response: httpx.Response, attempt: int) -> float:
        header = response.headers.get("Retry-After", "")
        wait = float(header) if header.isdigit() else self.backoff * 2**attempt
        return min(wait, self.retry_after_cap)

    def _error_for(self, response: httpx.Response) -> TickercastError:
        status = response.status_code
        message = _message_of(response)
        retry_after = response.headers.get("Retry-After", "")
        after = int(retry_after) if retry_after.isdigit() else None
        if status == 400:
            detail = message.removeprefix("invalid input: ") if message else "unreadable input"
            return ModelRejected(detail)
        if status in (401, 403):
            log.error(
                "the model service refused MODEL_API_KEY (%d %s)", status, self._hide_text(message)
            )
            return UpstreamError("The forecasting service refused this app's key.")
        if status in (429, 503):
            return ServiceBusy(BUSY, retry_after=after or 30)
        log.error("model service answered %d: %s", status, self._hide_text(message))
        return UpstreamError(f"The forecasting service failed (HTTP {status}).")


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
