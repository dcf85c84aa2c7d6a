"""The track record in the web app: the JSON API, the `/track-record` page, and the sentence
the ticker page shows beside its backtest.

GET /api/track-record/{ticker}?method=&source=&kind=            its scores, overall and by step,
                                                                by month, by volatility regime and
                                                                by level (calibration)
GET /api/track-record/{ticker}/forecasts?method=&source=&kind=&limit=   the stored forecasts
GET /track-record?kind=                                         tickers and methods ranked

Every read is of the totals the scorer keeps (a few rows), but coverage by regime, which reads
the one group's scores (its thirds are of that group's origins); each in a worker thread; with
a ticker with nothing stored is an empty record (200), and a forecast stored is in it before
the scorer has run (with nothing scored). With the database down the answer is 503 "the track
record is unavailable", and pages and forecasts go on as before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
import anyio.to_thread
import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from tickercast.data.frames import normalize_ticker
from tickercast.errors import InvalidInput, ServiceBusy
from tickercast.quant.scoring import REGIMES
from tickercast.record import queries
from tickercast.record.buffer import Recorder
from tickercast.record.writes import KINDS
from tickercast.web.deps import Record, Templates
from tickercast.web.pages import page_json
from tickercast.web.series import PAGE_METHOD, parse_method

JSON = "application/json"
DEFAULT_LIMIT = 50  # stored forecasts answered when `limit` is not given
MAX_LIMIT = 500
RETRY_AFTER = 30  # seconds
# A read that has not answered by then is given up (a database whose packets vanish gives no
# error of its own): 503, well within a router's 30 s.
READ_DEADLINE = 10.0  # seconds
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
            normalize_ticker(ticker),
            parse_method(PAGE_METHOD if method is None else method),
            source,
            parse_kind(kind),
        )

    def summary(self, engine: Engine) -> dict[str, Any] | None:
        return queries.summary(engine, self.symbol, self.method, self.source, self.kind)

    def or_empty(self, record: dict[str, Any] | None) -> dict[str, Any]:
        """`record`, or the empty record of a ticker with nothing stored yet."""
        return record if record is not None else queries.empty(self.symbol, self.method)


def parse_kind(value: str | None) -> str | None:
    if value is not None and value not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}")
    return value


def parse_limit(value: str | int | None) -> int:
    try:
        limit = int(value) if value is not None else DEFAULT_LIMIT
    except ValueError:
        raise InvalidInput("limit must be a whole number") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}")
    return limit


def sentence(record: dict[str, Any]) -> str:
    """What the ticker page says of its record, e.g. "Forecasts shown here for AAPL since
    2012-03-01: 1,240 prices scored, errors 0.98× the random walk's, the 80% band held 81%"."""
    if not record["forecasts"]:
        return f"Nothing kept for {record['ticker']} yet: forecasts are kept as pages show them."
    if record["kind"] == "replayed":
        head = (
            f"Forecasts replayed for {record['ticker']} as this page would have shown them "
            f"from {record['first_as_of']}"
        )
    elif record["kind"] == "nightly":
        head = f"Forecasts made every night for {record['ticker']} since {record['first_as_of']}"
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


async def read(
    recorder: Recorder, query: Callable[[Engine], T], deadline: float = READ_DEADLINE
) -> T:
    """`query` on the record's database, in a worker thread; RecordUnavailable when it fails or
    has not answered within `deadline` seconds (the thread is left to finish on its own)."""

    def run() -> T:
        return query(recorder.engine())

    try:
        with anyio.fail_after(deadline):
            return await anyio.to_thread.run_sync(run, abandon_on_cancel=True)
    except (SQLAlchemyError, OSError, TimeoutError):
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

    def in_full(engine: Engine) -> dict[str, Any]:
        found = asked.summary(engine)
        if found is None:
            none = dict.fromkeys(REGIMES)
            return {
                **asked.or_empty(None),
                "by_month": [],
                "regime_coverage": none,
                "calibration": [],
            }
        return {
            **found,
            "by_month": queries.by_month(engine, found),
            "regime_coverage": queries.regime_coverage(engine, found),
            "calibration": queries.calibration(engine, found),
        }

    record = await read(recorder, in_full)  # one trip to a worker thread
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
    found = await read(recorder, asked.summary)
    record = asked.or_empty(found)
    stored = (
        await read(recorder, lambda e: queries.stored_forecasts(e, record, count)) if found else []
    )
    body = {key: record[key] for key in ("ticker", "source", "kind", "method", "interval_width")}
    return Response(orjson.dumps({**body, "forecasts": stored}), media_type=JSON)


@router.get("/track-record", include_in_schema=False)
async def track_record_page(
    request: Request, recorder: Record, templates: Templates, kind: str | None = None
) -> Response:
    chosen = parse_kind(kind)

    def everything(engine: Engine) -> dict[str, Any]:
        return {
            "ranked": queries.ranking(engine, chosen),
            "coverage_by_step": queries.coverage_by_step(engine, chosen),
            "calibration": queries.calibration_by_method(engine, chosen),
            "pit": queries.pit_by_method(engine, chosen),
            "misses": queries.biggest_misses(engine, chosen),
        }

    try:
        found = await read(recorder, everything)
    except RecordUnavailable:
        found, unavailable = {}, True
    else:
        unavailable = False
    data = page_json({k: found.get(k, []) for k in ("coverage_by_step", "calibration", "pit")})
    return templates.TemplateResponse(
        request,
        "track_record.html",
        {
            "ranked": found.get("ranked", []),
            "misses": found.get("misses", []),
            "has_calibration": bool(found.get("calibration")),
            "has_pit": bool(found.get("pit")),
            "kind": chosen,
            "kinds": KINDS,
            "unavailable": unavailable,
            "unavailable_message": UNAVAILABLE,
            "data": data,
        },
    )
