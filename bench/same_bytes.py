"""The same bytes: a SHA-256 of each of a fixed set of answers of both services, in-process.

    python -m bench.same_bytes            # one line a case: `name sha256`

Run it on two trees (PYTHONPATH at each one's `src`) and diff the outputs: a change that only
moves or renames code answers every case with the same bytes. It asks the model service (the
mock and Prophet: both methods, both engines, history, backtests) and the web app wired to that
model in this process (a ticker's JSON, an upload, the track record's API and page). It imports
only names both the current tree and older ones have. A hash covers the status, the content
type, the `X-Model-Version` header and the body; answers that speak of today (how old the
embedded prices are) are the same within a day.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import io
import sys
import tempfile
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pandas as pd
from starlette.testclient import TestClient

KEY = "same-bytes-key"
MODEL_URL = "http://model.same-bytes/"
ROWS = 300  # prices in each posted series: enough for the calibrated method (120)
PERIODS = 10


def digest(response: httpx.Response) -> str:
    head = f"{response.status_code} {response.headers.get('content-type', '')} "
    head += response.headers.get("x-model-version", "")
    return hashlib.sha256(head.encode() + b"\n" + response.content).hexdigest()


def series(ticker: str = "AAPL") -> tuple[list[str], list[float]]:
    """The last `ROWS` adjusted closes of `ticker` from the embedded sample data."""
    from bokeh_sampledata.stocks import data

    rows = data[data["ticker"] == ticker].sort_values("date").tail(ROWS)
    return [str(d)[:10] for d in rows["date"]], [float(v) for v in rows["adj_close"]]


def model_settings(mock: bool) -> Any:
    from tickercast.settings import ModelSettings

    return ModelSettings(
        model_api_keys=KEY,  # type: ignore[arg-type]
        model_mock=mock,
        model_rate_limit="1000000/minute",
        model_request_rate_limit="1000000/minute",
    )


def model_app(mock: bool) -> Any:
    from tickercast.model.api import create_app

    return create_app(model_settings(mock))


def model_cases(mock: bool) -> Iterator[tuple[str, str, dict[str, Any]]]:
    ds, y = series()
    body = {"key": KEY, "ds": ds, "y": y, "periods": PERIODS}
    engines = ["fast"] if mock else ["fast", "cmdstan"]
    for method in ("prophet", "calibrated"):
        for engine in engines:
            yield f"{method}-{engine}", "/", {**body, "method": method, "engine": engine}
        yield f"{method}-history", "/", {**body, "method": method, "include_history": True}
        backtest = {**body, "method": method, "horizon": 5, "cutoffs": 2}
        yield f"{method}-backtest", "/backtest", backtest
    yield "default", "/", body
    yield "interval-0.95", "/", {**body, "interval_width": 0.95}
    yield "refused", "/", {**body, "method": "neither"}


def model_hashes(mock: bool) -> Iterator[tuple[str, str]]:
    kind = "mock" if mock else "prophet"
    with TestClient(model_app(mock)) as client:
        for name, path, body in model_cases(mock):
            yield f"model-{kind}-{name}", digest(client.post(path, content=orjson.dumps(body)))


def record_writes() -> Any:
    """The track record's writes: `record.writes`, or `record.store` in older trees."""
    try:
        return importlib.import_module("tickercast.record.writes")
    except ModuleNotFoundError:
        return importlib.import_module("tickercast.record.store")


def keep_a_record(url: str) -> None:
    """AAPL's and MSFT's forecasts shown on fixed days, both methods and both kinds, scored
    against the embedded prices: the track record's answers have numbers."""
    from tickercast.data.embedded import EmbeddedProvider
    from tickercast.record import db, scorer

    writes = record_writes()
    shown_at = dt.datetime(2013, 2, 1, 21, 30, tzinfo=dt.UTC)
    kept = []
    for ticker in ("AAPL", "MSFT"):
        closes = EmbeddedProvider().history(ticker).frame["close"]
        for i, as_of in enumerate(pd.bdate_range("2012-10-01", periods=40, freq="3B")):
            last = float(closes.asof(as_of))
            days = pd.bdate_range(as_of + pd.offsets.BDay(1), periods=5)
            half = last * (0.02 + 0.001 * (i % 7))
            steps = tuple(writes.Step(d.date(), last, last - half, last + half) for d in days)
            for method in ("calibrated", "prophet"):
                for kind in ("live", "replayed"):
                    fields = {"ticker": ticker, "source": "embedded", "kind": kind}
                    fields |= {"as_of": as_of.date(), "method": method, "last_price": last}
                    fields |= {"model_version": "fast/0.1.0", "interval_width": 0.8}
                    fields |= {"steps": steps, "window": "1y", "shown_at": shown_at}
                    kept.append(writes.ShownForecast(**fields))
    engine = db.open_engine(url)
    writes.store(engine, kept)
    scorer.score(
        engine,
        lambda ticker, source: EmbeddedProvider().history(ticker).frame["close"],
        today=dt.date(2013, 3, 1),
    )
    engine.dispose()


def web_app(folder: str) -> Any:
    from tickercast.data.embedded import EmbeddedProvider
    from tickercast.settings import WebSettings
    from tickercast.web.app import create_app
    from tickercast.web.model_client import ModelClient

    record = f"sqlite:///{folder}/record.sqlite3"
    keep_a_record(record)
    settings = WebSettings(
        model_api_url=MODEL_URL,  # type: ignore[arg-type]
        model_api_key=KEY,  # type: ignore[arg-type]
        database_url=record,  # type: ignore[arg-type]
        yahoo_prices=False,  # the embedded prices only: nothing reaches the internet
    )
    model = ModelClient(
        MODEL_URL, KEY, timeout=120, retries=0, transport=httpx.ASGITransport(model_app(True))
    )
    return create_app(settings, providers={"embedded": EmbeddedProvider()}, model_client=model)


WEB_GETS = [
    # The track record first: a forecast shown below joins it, stamped with the time it was shown.
    "/api/track-record/AAPL",
    "/api/track-record/AAPL?method=prophet&kind=replayed",
    "/api/track-record/MSFT",
    "/api/track-record/AAPL/forecasts",
    "/api/track-record/AAPL/forecasts?method=prophet",
    "/api/track-record/ZZZZ",
    "/track-record",
    "/track-record?kind=live",
    "/api/tickers",
    "/api/forecast/AAPL",
    "/api/forecast/AAPL?method=prophet&periods=20&window=1y",
    "/api/forecast/MSFT?method=calibrated&periods=5&window=3m",
    "/api/forecast/ZZZZ",
    "/api/forecast/AAPL?periods=0",
    "/api/backtest/AAPL",
    "/api/backtest/AAPL?method=prophet",
    "/t/AAPL",
    "/t/AAPL?window=1y&h=20&method=prophet",
    "/",
]


def upload_csv() -> bytes:
    ds, y = series("IBM")
    lines = ["date,close", *(f"{d},{v}" for d, v in zip(ds, y, strict=True))]
    return "\n".join(lines).encode()


def web_hashes() -> Iterator[tuple[str, str]]:
    ds, y = series("IBM")
    posted = {"name": "mine", "ds": ds, "y": y, "periods": PERIODS}
    posts = [
        ("/api/forecast", posted),
        ("/api/forecast", {**posted, "method": "prophet"}),
        ("/api/backtest", {**posted, "method": "prophet"}),
    ]
    with (
        tempfile.TemporaryDirectory(prefix="same-bytes-") as folder,
        TestClient(web_app(folder)) as client,
    ):
        for url in WEB_GETS:
            yield f"web-GET {url}", digest(client.get(url))
        for url, body in posts:
            name = f"web-POST {url} {body.get('method', 'default')}"
            yield name, digest(client.post(url, json=body))
        files = {"file": ("prices.csv", io.BytesIO(upload_csv()), "text/csv")}
        yield "web-POST /upload", digest(client.post("/upload", files=files))


def main() -> int:
    for name, sha in [*model_hashes(True), *model_hashes(False), *web_hashes()]:
        print(name, sha, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
