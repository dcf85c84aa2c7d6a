"""The track record in the web app: the JSON API, the `/track-record` page, and the sentence
the ticker page shows beside its backtest.

GET /api/track-record/{ticker}?method=&source=&kind=            its scores, overall and by step,
                                                                by month and by volatility regime
GET /api/track-record/{ticker}/forecasts?method=&source=&kind=&limit=   the stored forecasts
GET /track-record?kind=                                         tickers and methods ranked

Every read is of the totals the scorer keeps (a few rows), but coverage by regime, which reads
the one group's scores (its thirds are of that group's origins); each in a worker thread; with
the database down the answer is 503 "the track record is unavailable", and pages and forecasts go
on as before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio.to_thread
import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from tickercast.errors import InvalidInput, NotFound, ServiceBusy
from tickercast.record import queries
from tickercast.record.buffer import Recorder
from tickercast.record.writes import KINDS
from tickercast.web.deps import Record, Templates
from tickercast.web.pages import page_json
from tickercast.web.series import PAGE_METHOD, parse_method

JSON = "application/json"
MAX_LIMIT = 500
RETRY_AFTER = 30  # seconds
UNAVAILABLE = "the track record is unavailable; forecasts are still served, and kept"
T = TypeVar("T")
router = APIRouter()


class RecordUnavailable(ServiceBusy):
    public_message = UNAVAILABLE


@dataclass(frozen=True)
class RecordAsked:
    """Which record the API is asked for: a ticker's, of one method, source and kind."""

    symbol: str
    method: str
    source: str | None
    kind: str | None

    @classmethod
    def parse(
        cls, ticker: str, method: str | None, source: str | None, kind: str | None
    ) -> RecordAsked:
        return cls(
            ticker.strip().upper(), parse_method(method or PAGE_METHOD), source, parse_kind(kind)
        )

    def summary(self, engine: Engine) -> dict[str, Any] | None:
        return queries.summary(engine, self.symbol, self.method, self.source, self.kind)

    def found(self, record: T | None) -> T:
        """`record`, or NotFound when there is none yet."""
        if record is None:
            raise NotFound(f"no track record for {self.symbol[:20]} ({self.method}) yet")
        return record


def parse_kind(value: str | None) -> str | None:
    if value is not None and value not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}")
    return value


def parse_limit(value: str | int | None) -> int:
    try:
        limit = int(value) if value is not None else 50
    except ValueError:
        raise InvalidInput("limit must be a whole number") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}")
    return limit


def sentence(record: dict[str, Any]) -> str:
    """What the ticker page says of its record, e.g. "Forecasts shown here for AAPL since
    2012-03-01: 1,240 prices scored, errors 0.98× the random walk's, the 80% band held 81%"."""
    if record["kind"] == "replayed":
        head = (
            f"Forecasts replayed for {record['ticker']} as this page would have shown them "
            f"from {record['first_as_of']}"
        )
    else:
        head = f"Forecasts shown here for {record['ticker']} since {record['first_as_of']}"
    if not record["scored"]:
        forecasts = record["forecasts"]
        noun = "forecast" if forecasts == 1 else "forecasts"
        return f"{head}: {forecasts:,} {noun} kept, none of their prices known yet."
    parts = [f"{record['scored']:,} prices scored"]
    if record["mase"] is not None:
        parts.append(f"errors {record['mase']:.2f}× the random walk's")
    if record["coverage"] is not None:
        width = round(record["interval_width"] * 100)
        parts.append(f"the {width}% band held {record['coverage']:.0%}")
    return f"{head}: {', '.join(parts)}."


async def read(recorder: Recorder, query: Callable[[Engine], T]) -> T:
    """`query` on the record's database, in a worker thread; RecordUnavailable when it fails."""

    def run() -> T:
        return query(recorder.engine())

    try:
        return await anyio.to_thread.run_sync(run)
    except (SQLAlchemyError, OSError):
        raise RecordUnavailable(retry_after=RETRY_AFTER) from None


@router.get("/api/track-record/{ticker}", summary="The track record of one ticker's forecasts")
async def track_record(
    recorder: Record,
    ticker: str,
    method: str | None = None,
    source: str | None = None,
    kind: str | None = None,
) -> Response:
    asked = RecordAsked.parse(ticker, method, source, kind)

    def in_full(engine: Engine) -> dict[str, Any] | None:
        found = asked.summary(engine)
        return found and {
            **found,
            "by_month": queries.by_month(engine, found),
            "regime_coverage": queries.regime_coverage(engine, found),
        }

    record = asked.found(await read(recorder, in_full))  # one trip to a worker thread
    body = {**record, "sentence": sentence(record)}
    return Response(orjson.dumps(body), media_type=JSON)


@router.get(
    "/api/track-record/{ticker}/forecasts",
    summary="The stored forecasts of one ticker, newest first",
)
async def track_record_forecasts(
    recorder: Record,
    ticker: str,
    method: str | None = None,
    source: str | None = None,
    kind: str | None = None,
    limit: str | None = None,
) -> Response:
    count = parse_limit(limit)
    asked = RecordAsked.parse(ticker, method, source, kind)
    record = asked.found(await read(recorder, asked.summary))
    stored = await read(recorder, lambda e: queries.stored_forecasts(e, record, count))
    body = {key: record[key] for key in ("ticker", "source", "kind", "method", "interval_width")}
    return Response(orjson.dumps({**body, "forecasts": stored}), media_type=JSON)


@router.get("/track-record", include_in_schema=False)
async def track_record_page(
    request: Request, recorder: Record, templates: Templates, kind: str | None = None
) -> Response:
    chosen = parse_kind(kind)
    try:
        ranked = await read(recorder, lambda e: queries.ranking(e, chosen))
        steps = await read(recorder, lambda e: queries.coverage_by_step(e, chosen))
    except RecordUnavailable:
        ranked, steps, unavailable = [], [], True
    else:
        unavailable = False
    data = page_json({"coverage_by_step": steps})
    return templates.TemplateResponse(
        request,
        "track_record.html",
        {
            "ranked": ranked,
            "kind": chosen,
            "kinds": KINDS,
            "unavailable": unavailable,
            "unavailable_message": UNAVAILABLE,
            "data": data,
        },
    )
