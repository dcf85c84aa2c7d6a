"""The JSON API: async routes that await the use cases (`Forecaster`).

GET  /api/tickers                  GET  /api/forecast/{ticker}   GET  /api/backtest/{ticker}
POST /api/forecast (a series)      POST /api/backtest (a series)
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from tickercast.errors import InvalidFormat, InvalidInput
from tickercast.runtime.serving import read_body
from tickercast.settings import WebSettings
from tickercast.web.deps import Settings, UseCases
from tickercast.web.series import Choices, forecast_csv

JSON = "application/json"


def json_response(data: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(data, option=orjson.OPT_SERIALIZE_NUMPY), media_type=JSON, headers=headers
    )


async def read_json(request: Request, limit: int) -> dict[str, Any]:
    try:
        data = orjson.loads(await read_body(request, limit))
    except orjson.JSONDecodeError:
        raise InvalidFormat() from None
    if not isinstance(data, dict):
        raise InvalidFormat()
    return data


router = APIRouter()


def post_limit(settings: WebSettings) -> int:
    """A posted series is the uploaded CSV's close prices as JSON: a few times the CSV's size."""
    return 4 * settings.upload_max_bytes


@router.get("/api/tickers", summary="Every ticker the enabled providers offer")
async def tickers(forecaster: UseCases) -> Response:
    return json_response({"tickers": forecaster.tickers()})


@router.get("/api/forecast/{ticker}", summary="History and forecast of one ticker")
async def ticker_forecast(
    forecaster: UseCases,
    ticker: str,
    periods: str | None = None,
    window: str | None = None,
    source: str | None = None,
    method: str | None = None,
    format: str = "json",
) -> Response:
    if format not in ("json", "csv"):
        raise InvalidInput("format must be json or csv")
    choices = Choices.parse(window, periods, None, method)
    data = await forecaster.ticker_forecast(ticker, source, choices)
    if format == "csv":
        name = f"{data['ticker']}-forecast-{choices.horizon}.csv"
        return Response(
            forecast_csv(data["forecast"]),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return json_response(data)


@router.get("/api/backtest/{ticker}", summary="How past forecasts of this ticker fared")
async def ticker_backtest(
    forecaster: UseCases,
    ticker: str,
    periods: str | None = None,
    window: str | None = None,
    source: str | None = None,
    method: str | None = None,
) -> Response:
    choices = Choices.parse(window, periods, None, method)
    return json_response(await forecaster.ticker_backtest(ticker, source, choices))


@router.post("/api/forecast", summary="Forecast a series the client sends (an uploaded CSV)")
async def series_forecast(request: Request, forecaster: UseCases, settings: Settings) -> Response:
    body = await read_json(request, post_limit(settings))
    return json_response(await forecaster.series_forecast(body))


@router.post("/api/backtest", summary="Backtest a series the client sends")
async def series_backtest(request: Request, forecaster: UseCases, settings: Settings) -> Response:
    body = await read_json(request, post_limit(settings))
    return json_response(await forecaster.series_backtest(body))
