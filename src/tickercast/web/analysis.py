"""The analysis to take away: one download per ticker page with what the page was made of, so
the page can be rebuilt from it without this site.

GET /api/analysis/{ticker}?periods=&window=&source=&method=&format=json|zip

It holds the prices the forecast used (the model's history: at most `MODEL_HISTORY` sessions,
whatever the window, which bounds its size), the forecast at every level the answer has, the
numbers the odds sentences rest on (the forecast's `odds` when it has them, else the quantiles
at the horizon), the backtest's folds and scores with each band's coverage, the track record's
summary for the ticker (null when the record has nothing or cannot be read), the model's
version and the page's URL. `format=zip`: the same as CSV files, one table each.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import Response

from tickercast.errors import InvalidInput
from tickercast.web.api import json_response
from tickercast.web.deps import Record, UseCases
from tickercast.web.forecasts import Forecaster, _ticker_prepared
from tickercast.web.model_client import ModelRejected
from tickercast.web.series import Choices
from tickercast.web.track_record import RecordAsked, RecordUnavailable, read

FORMATS = ("json", "zip")
ZIP_TYPE = "application/zip"
# The forecast's fields the download leaves out: the chart's window of history (the prices the
# forecast used are in `prices`, bounded) and what the page draws the components from.
LEFT_OUT = ("history", "components")
router = APIRouter()


def page_url(base: str, ticker: str, source: str | None, choices: Choices) -> str:
    """The ticker page these choices show (absolute, from the request's base URL)."""
    query = {"window": choices.window, "h": str(choices.horizon), "method": choices.method}
    if source:
        query["source"] = source
    return f"{base.rstrip('/')}/t/{quote(ticker, safe='')}?{urlencode(query)}"


def horizon_quantiles(forecast: Sequence[Mapping[str, Any]], last: float) -> dict[str, Any]:
    """The forecast's numbers at its horizon (its last row): the centre and every band's
    edges, with the last price they are compared with."""
    if not forecast:
        return {}
    end = forecast[-1]
    edges = {k: v for k, v in end.items() if k == "yhat" or k.startswith("yhat_")}
    return {"ds": end["ds"], "steps": len(forecast), "last_price": last, **edges}


async def gather(
    forecaster: Forecaster,
    recorder: Record,
    ticker: str,
    source: str | None,
    choices: Choices,
    base_url: str,
) -> dict[str, Any]:
    """The analysis of one ticker page: the page's own forecast and backtest (answers the
    cache already holds when the page was shown), the prices they used, the record."""
    forecast = await forecaster.ticker_forecast(ticker, source, choices)
    prices = await forecaster.history(ticker, source)
    _, prepared = await anyio.to_thread.run_sync(_ticker_prepared, prices, choices)
    version = (await forecaster.model_answer("forecast", prepared.request)).version
    try:
        backtest: dict[str, Any] = await forecaster.ticker_backtest(ticker, source, choices)
    except ModelRejected as exc:  # too short a history: the page says the same
        backtest = {"error": exc.detail}
    request = prepared.request
    used = [{"ds": d, "close": y} for d, y in zip(request["ds"], request["y"], strict=True)]
    odds = forecast.get("odds") or horizon_quantiles(forecast["forecast"], prepared.last)
    return {
        **{k: v for k, v in forecast.items() if k not in LEFT_OUT},
        "horizon": choices.horizon,
        "page_url": page_url(base_url, str(forecast["ticker"]), source, choices),
        "model_version": version,
        "prices": used,
        "odds": odds,
        "backtest": backtest,
        "record": await record_summary(recorder, forecast["ticker"], choices.method, source),
    }


async def record_summary(
    recorder: Record, ticker: str, method: str, source: str | None
) -> dict[str, Any] | None:
    """The track record's summary of the ticker's forecasts by `method` (what
    /api/track-record/{ticker} heads with); None with nothing kept or the record unavailable."""
    asked = RecordAsked.parse(ticker, method, source, None)
    try:
        return await read(recorder, asked.summary)
    except RecordUnavailable:
        return None


def _csv(rows: Iterable[Mapping[str, Any]]) -> str:
    """Rows as CSV, the columns in the order they first appear."""
    rows = list(rows)
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    out = io.StringIO()
    writer = csv.DictWriter(out, list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _pairs(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A record's plain fields as field,value rows (nested ones left to their own table)."""
    return [
        {"field": k, "value": v} for k, v in data.items() if not isinstance(v, dict | list | tuple)
    ]


def _sentences(odds: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The odds' sentences as field,value rows (`text`, one row each)."""
    return [{"field": "text", "value": line} for line in odds.get("text") or []]


def score_rows(scores: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The backtest's scores as two tables: each method's metrics overall and at each step,
    and each level's coverage, interval and interval score."""
    metrics: list[dict[str, Any]] = []
    levels: list[dict[str, Any]] = []
    for method, parts in scores.items():
        steps = [("overall", parts["overall"])] + list(enumerate(parts["by_step"], start=1))
        for step, values in steps:
            plain = {k: v for k, v in values.items() if not isinstance(v, list | dict)}
            metrics.append({"method": method, "step": step, **plain})
            levels += [{"method": method, "step": step, **i} for i in values.get("by_level", [])]
    return metrics, levels


def tables(analysis: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The analysis as tables, by file name."""
    odds = analysis["odds"]
    out = {
        "about.csv": _pairs(analysis),
        "prices.csv": analysis["prices"],
        "forecast.csv": analysis["forecast"],
        "odds.csv": odds if isinstance(odds, list) else _pairs(odds) + _sentences(odds),
        "quantiles.csv": analysis.get("quantiles") or [],
        "notes.csv": [{"note": n} for n in analysis.get("notes", [])],
    }
    backtest = analysis["backtest"]
    out["backtest.csv"] = _pairs(backtest)
    if "scores" in backtest:
        metrics, levels = score_rows(backtest["scores"])
        out["backtest_folds.csv"] = backtest["folds"]
        out["backtest_scores.csv"] = metrics
        out["backtest_levels.csv"] = levels
        out["backtest_coverage.csv"] = backtest.get("coverage", [])
    if analysis["record"] is not None:
        out["record.csv"] = _pairs(analysis["record"])
    return out


def zipped(analysis: Mapping[str, Any]) -> bytes:
    """The analysis as a zip of CSV files (`tables`)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, rows in tables(analysis).items():
            archive.writestr(name, _csv(rows))
    return buffer.getvalue()


@router.get("/api/analysis/{ticker}", summary="Everything one ticker page shows, to take away")
async def ticker_analysis(
    request: Request,
    forecaster: UseCases,
    recorder: Record,
    ticker: str,
    periods: str | None = None,
    window: str | None = None,
    source: str | None = None,
    method: str | None = None,
    format: str = "json",
) -> Response:
    if format not in FORMATS:
        raise InvalidInput("format must be json or zip")
    choices = Choices.parse(window, periods, None, method)
    data = await gather(forecaster, recorder, ticker, source, choices, str(request.base_url))
    name = f"{data['ticker']}-analysis-{choices.horizon}"
    if format == "zip":
        content = await anyio.to_thread.run_sync(zipped, data)
        disposition = {"Content-Disposition": f'attachment; filename="{name}.zip"'}
        return Response(content, media_type=ZIP_TYPE, headers=disposition)
    return json_response(data, {"Content-Disposition": f'attachment; filename="{name}.json"'})
