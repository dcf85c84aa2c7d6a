"""Fakes for the web app's unit tests: a price provider and a model service behind
`httpx.MockTransport` that answers the contract's shape from the contract's own code."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import numpy as np
import orjson
import pandas as pd

from tickercast import calendars
from tickercast.contract import VALUE_KEYS, encode_response, parse_body, parse_request
from tickercast.data.base import PRICE_COLUMNS, PriceHistory
from tickercast.errors import NotFound, error_body
from tickercast.settings import WebSettings

KEY = "web-test-key"
MODEL_URL = "http://model.test/"


def sessions(n: int, after: str = "2019-12-31") -> pd.DatetimeIndex:
    return calendars.sessions_after("XNYS", pd.Timestamp(after), n).rename("date")


def price_frame(n: int, start_price: float = 100.0, seed: int = 0) -> pd.DataFrame:
    """`n` NYSE sessions of a random walk, with OHLC, volume and a 2% dividend adjustment."""
    rng = np.random.default_rng(seed)
    close = start_price * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    frame = pd.DataFrame(
        {
            "open": close * 0.995,
            "high": close * 1.01,
            "low": close * 0.99,
            "close": close,
            "volume": np.full(n, 1e6),
            "adj_close": close * 0.98,
        },
        index=sessions(n),
    )
    return frame[list(PRICE_COLUMNS)]


class FakeProvider:
    def __init__(self, name: str, frames: dict[str, pd.DataFrame], label: str = "") -> None:
        self.name = name
        self.label = label or f"Fake {name}"
        self.frames = frames

    def tickers(self) -> list[str]:
        return list(self.frames)

    def history(
        self, ticker: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> PriceHistory:
        symbol = ticker.strip().upper()
        if symbol not in self.frames:
            raise NotFound(f"no ticker {symbol!r} here")
        return PriceHistory(symbol, self.name, self.frames[symbol].copy(), "Prices: made up.")


def providers() -> dict[str, FakeProvider]:
    return {
        "fake": FakeProvider(
            "fake",
            {"ACME": price_frame(600, 100.0, 1), "BOLT": price_frame(600, 20.0, 2)},
        ),
        # CORE starts later: its last 300 sessions are the others' last 300.
        "other": FakeProvider("other", {"CORE": price_frame(600, 50.0, 3).iloc[-300:]}),
    }


def settings(**overrides: object) -> WebSettings:
    values: dict[str, object] = {
        "model_api_url": MODEL_URL,
        "model_api_key": KEY,
        "model_api_timeout": 5.0,
        "model_api_retries": 2,
        **overrides,
    }
    return WebSettings(**values)  # type: ignore[arg-type]


def forecast_answer(body: bytes) -> httpx.Response:
    """What the model service answers: a trend through the last value, a band of +-5."""
    data = parse_body(body)
    if data.get("key") != KEY:
        return httpx.Response(403, content=error_body("invalid key"))
    req = parse_request(data)
    last = float(req.y[~np.isnan(req.y)][-1])
    ds = calendars.future_dates(req.ds[-1], req.periods, req.freq)
    yhat = last + 0.1 * np.arange(1, req.periods + 1)
    columns = {k: np.zeros(req.periods) for k in VALUE_KEYS}
    columns.update(yhat=yhat, yhat_lower=yhat - 5, yhat_upper=yhat + 5, trend=yhat)
    return httpx.Response(200, content=encode_response(ds, columns, req.n))


@dataclass
class FakeModel:
    """A MockTransport handler that records every request; `script` can replace answers."""

    script: list[Callable[[httpx.Request], httpx.Response]] = field(default_factory=list)
    requests: list[dict[str, object]] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(orjson.loads(request.content))
        if self.script:
            return self.script.pop(0)(request)
        return forecast_answer(request.content)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def busy(retry_after: str = "1") -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        headers = {"Retry-After": retry_after} if retry_after else {}
        return httpx.Response(503, content=error_body("service busy, retry later"), headers=headers)

    return answer
