"""Fakes for the web app's unit tests: a price provider and a model service behind
`httpx.MockTransport` that answers the contract's shape from the contract's own code, and
POST /backtest in the shape the model service answers it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist

import httpx
import numpy as np
import orjson
import pandas as pd

from tickercast.contract import (
    VALUE_KEYS,
    backtest_min_rows,
    encode_response,
    level_keys,
    parse_backtest_request,
    parse_body,
    parse_request,
)
from tickercast.data.base import PRICE_COLUMNS, PriceHistory
from tickercast.errors import InvalidInput, NotFound, error_body
from tickercast.quant import calendars
from tickercast.settings import WebSettings

KEY = "web-test-key"
FAKE_VERSION = "fake/0.1.0"  # the X-Model-Version of the fake's forecasts
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


FAKE_MASE = 0.95
FAKE_COVERAGE = 0.79


def refused(exc: InvalidInput) -> httpx.Response:
    return httpx.Response(400, content=error_body(exc.message))


def forecast_answer(body: bytes) -> httpx.Response:
    """What the model service answers: a trend through the last value, a band of +-5."""
    data = parse_body(body)
    if data.get("key") != KEY:
        return httpx.Response(403, content=error_body("invalid key"))
    try:
        req = parse_request(data)  # the model's own rules, the calibrated minimum included
    except InvalidInput as exc:
        return refused(exc)
    last = float(req.y[~np.isnan(req.y)][-1])
    ds = calendars.future_dates(req.ds[-1], req.periods, req.freq)
    yhat = last + 0.1 * np.arange(1, req.periods + 1)
    columns = {k: np.zeros(req.periods) for k in VALUE_KEYS}
    columns.update(yhat=yhat, yhat_lower=yhat - 5, yhat_upper=yhat + 5, trend=yhat)
    for level in req.levels:  # normal quantiles, the band's spread: ±5 at 80%
        lower, upper = level_keys(level)
        half = 5 * _z(level / 100) / _z(req.interval_width)
        columns[lower], columns[upper] = yhat - half, yhat + half
    headers = {"X-Model-Version": FAKE_VERSION}
    content = encode_response(ds, columns, req.n, req.levels)
    return httpx.Response(200, content=content, headers=headers)


def _z(width: float) -> float:
    """The normal quantile of a central interval's upper edge."""
    return -NormalDist().inv_cdf((1 - width) / 2)


def scores(horizon: int, mase: float, coverage: float | None) -> dict[str, object]:
    def metrics(relative: float) -> dict[str, object]:
        return {
            "mae": round(2.0 * relative, 6),
            "rmse": round(2.5 * relative, 6),
            "mape": 2.0,
            "smape": 2.0,
            "relative_mae": relative,
            "coverage": coverage,
            "band_width": 8.0,
            "direction_hit_rate": None if relative == 1.0 else 0.5,
            "count": horizon,
        }

    by_step = [metrics(round(mase + 0.001 * k, 6)) for k in range(horizon)]
    return {"overall": metrics(mase), "by_step": by_step}


def level_scores(levels: Sequence[float]) -> list[dict[str, object]]:
    """`by_level` items: each band held a point under its level (FAKE_COVERAGE at 80%), with
    an interval around it that holds the level."""
    items = []
    for level in levels:
        held = round(level / 100 - (0.80 - FAKE_COVERAGE), 6)
        low, high = round(held - 0.06, 6), round(min(1.0, held + 0.05), 6)
        items.append({"level": level, "coverage": held, "low": low, "high": high})
    return items


def backtest_answer(body: bytes) -> httpx.Response:
    """POST /backtest in the model's shape, with made-up scores; the request is checked by the
    contract's own code, so too short a history is the model's 400."""
    data = parse_body(body)
    if data.get("key") != KEY:
        return httpx.Response(403, content=error_body("invalid key"))
    try:
        backtest = parse_backtest_request(data)  # too short a history: the model's 400
    except InvalidInput as exc:
        return refused(exc)
    req, horizon, cutoffs = backtest.series, backtest.horizon, backtest.cutoffs
    method = req.method
    need = backtest_min_rows(method, horizon, cutoffs)
    dates = [d.strftime("%Y-%m-%d") for d in req.ds]
    ends = np.linspace(need - horizon, req.n - horizon, cutoffs).astype(int)
    folds = [
        {"train_end": dates[e - 1], "test_start": dates[e], "test_end": dates[e + horizon - 1]}
        for e in ends
    ]
    ours = scores(horizon, FAKE_MASE, FAKE_COVERAGE)
    if req.levels:
        for item in [ours["overall"], *ours["by_step"]]:  # type: ignore[list-item]
            item["by_level"] = level_scores(req.levels)
    answer = {
        "method": method,
        "horizon": horizon,
        "interval_width": req.interval_width,
        "folds": folds,
        "scores": {
            method: ours,
            "random_walk": scores(horizon, 1.0, 0.8),
            "random_walk_drift": scores(horizon, 1.02, 0.8),
        },
        "verdict": (
            f"Over {cutoffs} past {horizon}-trading-day periods, the {method} forecast's errors "
            f"were {FAKE_MASE} times the random walk's (MASE), and its "
            f"{req.interval_width:.0%} band held {FAKE_COVERAGE:.0%} of actual prices."
        ),
    }
    return httpx.Response(200, content=orjson.dumps(answer))


@dataclass
class FakeModel:
    """A MockTransport handler that records every request; `script` can replace answers."""

    script: list[Callable[[httpx.Request], httpx.Response]] = field(default_factory=list)
    requests: list[dict[str, object]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(orjson.loads(request.content))
        self.paths.append(request.url.path)
        if self.script:
            return self.script.pop(0)(request)
        if request.url.path.endswith("/backtest"):
            return backtest_answer(request.content)
        return forecast_answer(request.content)

    def sent(self, path: str) -> list[dict[str, object]]:
        """The bodies sent to `path` ("/" or "/backtest")."""
        return [r for r, p in zip(self.requests, self.paths, strict=True) if p == path]

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def busy(retry_after: str = "1") -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        headers = {"Retry-After": retry_after} if retry_after else {}
        return httpx.Response(503, content=error_body("service busy, retry later"), headers=headers)

    return answer
