"""The watchlist: many tickers in one table, the list in the URL (so any worker serves it).

GET /watch?tickers=&h=            the page: its rows of prices at once, filled by its script
GET /api/watch/prices?tickers=    the rows' prices alone (quick)
GET /api/watch?tickers=&periods=  the rows filled: forecasts, backtests, track records
GET /api/watch.csv?tickers=&periods=   the filled table as CSV

Up to `MAX_TICKERS` tickers: more is a 400 that says so; a symbol no source has, or one that
is not a symbol, is a row that says why.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from tickercast.errors import InvalidInput, sentence
from tickercast.web import watch
from tickercast.web.api import json_response
from tickercast.web.deps import Record, Settings, UseCases
from tickercast.web.forecasts import INTERVAL_WIDTH
from tickercast.web.pages import MAX_COMPARE, page_json, render
from tickercast.web.series import (
    HORIZON_CHOICES,
    MAX_HORIZON,
    PAGE_HORIZON,
    PAGE_METHOD,
    parse_horizon,
    parse_method,
)

router = APIRouter()


def answer(rows: list[dict[str, Any]], horizon: int, method: str) -> dict[str, Any]:
    return {"horizon": horizon, "method": method, "interval_width": INTERVAL_WIDTH, "rows": rows}


def api_horizon(periods: str | None) -> int:
    """`periods`, a whole number of steps (absent: the page default; empty is no number)."""
    if periods == "":
        raise InvalidInput("periods must be a whole number of trading days")
    return parse_horizon(periods)


@router.get("/api/watch/prices", summary="The last prices of many tickers")
async def watch_prices(forecaster: UseCases, tickers: str) -> Response:
    symbols = watch.parse_tickers(tickers)
    watched = await watch.priced(forecaster, symbols, PAGE_HORIZON, PAGE_METHOD)
    return json_response(answer([w.row for w in watched], PAGE_HORIZON, PAGE_METHOD))


@dataclass(frozen=True)
class Filled:
    """The watchlist's rows as a query asks them (`tickers`, `periods`, `method`), with the
    horizon and method it chose: one reading of the query for the JSON and the CSV."""

    rows: list[dict[str, Any]]
    horizon: int
    method: str


async def filled(
    forecaster: UseCases,
    recorder: Record,
    tickers: str,
    periods: str | None = None,
    method: str | None = None,
) -> Filled:
    symbols = watch.parse_tickers(tickers)
    horizon, chosen = api_horizon(periods), parse_method(method)
    rows = await watch.table(forecaster, symbols, horizon, chosen, recorder)
    return Filled(rows, horizon, chosen)


Table = Annotated[Filled, Depends(filled)]


@router.get("/api/watch", summary="Forecasts, backtests and track records of many tickers")
async def watch_table(table: Table) -> Response:
    return json_response(answer(table.rows, table.horizon, table.method))


@router.get("/api/watch.csv", summary="The watchlist's table as CSV")
async def watch_csv(table: Table) -> Response:
    rows, horizon = table.rows, table.horizon
    return Response(
        table_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="watchlist-{horizon}.csv"'},
    )


def table_csv(rows: Sequence[dict[str, Any]]) -> str:
    """The table's columns (`watch.COLUMNS`), a row per ticker; empty where unknown."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(watch.COLUMNS)
    for row in rows:
        writer.writerow(["" if row[c] is None else row[c] for c in watch.COLUMNS])
    return buffer.getvalue()


@router.get("/watch", include_in_schema=False)
async def watch_page(
    request: Request,
    forecaster: UseCases,
    settings: Settings,
    tickers: str | None = None,
    h: str | None = None,
) -> Response:
    """The rows' prices in the HTML; the page's script asks `/api/watch` for the rest."""
    listed = settings.watchlist_default if tickers is None else tickers
    context: dict[str, Any] = {
        "tickers": listed,
        "horizon": PAGE_HORIZON,
        "horizons": HORIZON_CHOICES,
        "max_horizon": MAX_HORIZON,
        "interval_width": INTERVAL_WIDTH,
        "max_tickers": watch.MAX_TICKERS,
        "from_url": tickers is not None,
        "rows": [],
        "data": None,
        "message": None,
    }
    try:
        context["horizon"] = horizon = parse_horizon(h)
        symbols = watch.parse_tickers(listed)
    except InvalidInput as exc:
        context["message"] = sentence(exc.client_message)
        return render(request, "watch.html", exc.status, **context)
    watched = await watch.priced(forecaster, symbols, horizon, PAGE_METHOD)
    rows = [w.row for w in watched]
    query = urlencode({"tickers": ",".join(symbols), "periods": horizon})
    context.update(
        tickers=",".join(symbols),
        rows=rows,
        compare_url="/compare?" + urlencode({"tickers": ",".join(symbols[:MAX_COMPARE])}),
        csv_url=f"/api/watch.csv?{query}",
        data=page_json(
            {
                "rows": rows,
                "tickers": symbols,
                "horizon": horizon,
                "interval_width": INTERVAL_WIDTH,
                "api_url": f"/api/watch?{query}",
                "from_url": tickers is not None,
            }
        ),
    )
    return render(request, "watch.html", **context)
