"""The HTML pages. They render price history at once; the browser fetches forecasts from the
JSON API afterwards, so a slow or absent model service never blocks a page.

GET /  home, picker    GET /go  picker form     GET /t/{ticker}  ticker page
GET /compare  2-5 tickers                       GET, POST /upload  CSV upload
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

import anyio.to_thread
import orjson
import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from starlette.datastructures import UploadFile

from tickercast.data.base import PriceHistory
from tickercast.data.upload import parse_upload
from tickercast.errors import (
    InvalidInput,
    RequestTooLarge,
    TickercastError,
    UnknownTicker,
    sentence,
)
from tickercast.quant.calendars import step_word
from tickercast.web.backtest import MASE_MEANS
from tickercast.web.deps import Settings, UseCases, templates
from tickercast.web.deps import settings as settings_of
from tickercast.web.forecasts import INTERVAL_WIDTH, UPLOAD_UNIT, Forecaster
from tickercast.web.series import (
    CHARTS,
    DEFAULT_VIEW,
    DEFAULT_WINDOW,
    HORIZON_CHOICES,
    MAX_HORIZON,
    METHOD_LABELS,
    METHODS,
    PAGE_HORIZON,
    PAGE_METHOD,
    VIEW_LABELS,
    VIEWS,
    WINDOW_LABELS,
    WINDOWS,
    Choices,
    adjusted,
    chart_history,
    first_value,
    guess_freq,
    in_window,
    normalised,
)

MAX_COMPARE = 5
REACH_WAIT = 1.0  # the home page waits this long at most for a due probe of the sources
router = APIRouter(include_in_schema=False)


def page_json(data: Any) -> Markup:
    """JSON safe to put inside a <script> element."""
    text = orjson.dumps(data, option=orjson.OPT_SERIALIZE_NUMPY).decode()
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


def _query(params: dict[str, str | None]) -> str:
    return urlencode({k: v for k, v in params.items() if v})


def controls() -> dict[str, Any]:
    return {
        "windows": [(key, VIEW_LABELS[key]) for key in VIEWS],
        "horizons": HORIZON_CHOICES,
        "max_horizon": MAX_HORIZON,
        "charts": CHARTS,
        "methods": [(key, METHOD_LABELS[key]) for key in METHODS],
        "interval_width": INTERVAL_WIDTH,
        "mase_means": MASE_MEANS,
    }


def render(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    return templates(request).TemplateResponse(request, template, context, status_code=status)


def sources(forecaster: Forecaster) -> list[str]:
    """Each source this site asks, what it has, and whether it answered lately here."""
    state = {True: "; answering", False: "; not answering lately", None: ""}
    lines = []
    for source in forecaster.sources():
        reach = f"{source.listed} tickers" if source.listed else "any symbol it knows"
        said = state[source.answering]
        if source.unreachable:
            said = "; cannot be reached from this server"
        lines.append(f"{source.label} ({reach}{said})")
    return lines


def home(
    request: Request,
    forecaster: Forecaster,
    max_bytes: int,
    message: str | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "home.html",
        status,
        tickers=forecaster.tickers(),
        providers=sources(forecaster),
        unreachable=forecaster.unreachable_labels(),
        message=message,
        upload_max_bytes=max_bytes,
        watchlist=watchlist_link(settings_of(request).watchlist_default),
    )


def watchlist_link(tickers: str) -> dict[str, Any]:
    """The home page's default watchlist: its tickers and the page that shows them."""
    symbols = list(dict.fromkeys(t.strip().upper() for t in tickers.split(",") if t.strip()))
    return {"tickers": symbols, "url": "/watch?" + urlencode({"tickers": ",".join(symbols)})}


def unknown(request: Request, forecaster: Forecaster, exc: UnknownTicker) -> Response:
    """No source has the symbol: say so, with what this site has and how to add more."""
    return render(
        request,
        "unknown.html",
        exc.status,
        symbol=exc.symbol,
        tickers=forecaster.tickers(),
        providers=sources(forecaster),
        any_symbol="yahoo" in forecaster.source_names(),
        unreachable=", ".join(exc.unreachable),
    )


@router.get("/")
async def index(request: Request, forecaster: UseCases, settings: Settings) -> Response:
    await forecaster.check_reach(REACH_WAIT)  # a probe every few minutes, not one per page
    return home(request, forecaster, settings.upload_max_bytes)


@router.get("/go")
async def go(
    request: Request,
    forecaster: UseCases,
    settings: Settings,
    ticker: str = "",
    source: str | None = None,
) -> Response:
    """The picker's form: a symbol or a company's name, on to its ticker's page (the URL
    is the bookmark)."""
    if not ticker.strip():
        message = "Type a ticker symbol or a company's name."
        return home(request, forecaster, settings.upload_max_bytes, message, 400)
    try:
        symbol = await forecaster.find(ticker)
    except UnknownTicker as exc:
        return unknown(request, forecaster, exc)
    query = _query({"source": source or None})
    target = f"/t/{quote(symbol, safe='')}" + (f"?{query}" if query else "")
    return RedirectResponse(target, status_code=303)


def series_page(
    request: Request,
    prices: PriceHistory,
    frame: pd.DataFrame,
    choices: Choices,
    unit: str,
    step: str,
    source: str,
    links: dict[str, Any],
    **data: Any,
) -> Response:
    """The one page of a series (a ticker's, or an uploaded one): its history (`frame`);
    the browser fetches the forecast afterwards. `data`: what the page's script needs
    beyond the history; `links`: the download links."""
    data = {
        "mode": "upload" if prices.provider == "upload" else "ticker",
        "name": prices.ticker,
        "source": prices.provider,
        "history": chart_history(frame),
        "choices": choices.query(),
        "interval_width": INTERVAL_WIDTH,
        "unit": unit,
        "step": step,
        "windows": VIEWS,
        **data,
    }
    return render(
        request,
        "ticker.html",
        name=prices.ticker,
        prices=prices,
        rows=len(frame),
        first=frame.index[0] if len(frame) else None,
        last=frame.index[-1] if len(frame) else None,
        choices=choices,
        source=source,
        unit=unit,
        price_note=sentence("; ".join(data.get("price_notes") or [])),
        step=step,
        data=page_json(data),
        **links,
        **controls(),
    )


@router.get("/t/{ticker}")
async def ticker_page(
    request: Request,
    forecaster: UseCases,
    ticker: str,
    source: str | None = None,
    window: str | None = None,
    h: str | None = None,
    chart: str | None = None,
    method: str | None = None,
) -> Response:
    choices = Choices.parse(window or DEFAULT_VIEW, h, chart, method, VIEWS)
    # The page holds all the history; `window` is only how much of it the chart shows.
    # The forecast and backtest get the API's own history (no window in their URLs), so
    # every range shows the same forecast.
    try:
        priced = await forecaster.lookup(ticker, source or None)
    except UnknownTicker as exc:
        return unknown(request, forecaster, exc)
    prices = priced.history
    frame = adjusted(prices.frame)
    await forecaster.viewed(prices.ticker)
    query = _query({"periods": str(choices.horizon), "source": source, "method": choices.method})
    api_url = f"/api/forecast/{quote(prices.ticker, safe='')}?{query}"
    return series_page(
        request,
        prices,
        frame,
        choices,
        prices.currency,
        step_word(prices.calendar),
        source or "",
        {
            "csv_url": f"{api_url}&format=csv",
            "json_url": api_url,
            "analysis_url": f"/api/analysis/{quote(prices.ticker, safe='')}?{query}",
        },
        price_notes=priced.notes(),
        forecast_url=api_url,
        backtest_url=f"/api/backtest/{quote(prices.ticker, safe='')}?{query}",
    )


@router.get("/upload")
async def upload_form() -> Response:
    return RedirectResponse("/#upload", status_code=303)


@router.post("/upload")
async def upload(request: Request, forecaster: UseCases, settings: Settings) -> Response:
    most = settings.upload_max_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > most + 64_000:
        message = f"That file could not be used: request too large: the most is {most:,} bytes."
        return home(request, forecaster, most, message, 413)
    async with request.form() as form:
        file = form.get("file")
        if not isinstance(file, UploadFile) or not file.filename:
            return home(request, forecaster, most, "Choose a CSV file to upload.", 400)
        content = await file.read(most + 1)
        name = str(form.get("name") or "").strip() or file.filename.rsplit(".", 1)[0]
    try:
        prices = await anyio.to_thread.run_sync(parse_upload, content, most, name[:40])
    except (InvalidInput, RequestTooLarge) as exc:
        message = sentence(f"That file could not be used: {exc.client_message}")
        return home(request, forecaster, most, message, exc.status)
    frame = adjusted(prices.frame)
    step = step_word(guess_freq(pd.DatetimeIndex(frame.index)))
    links = {"csv_url": None, "json_url": None, "analysis_url": None}
    return series_page(
        request, prices, frame, Choices(window=DEFAULT_VIEW), UPLOAD_UNIT, step, "upload", links
    )


@router.get("/compare")
async def compare(
    request: Request, forecaster: UseCases, tickers: str = "", window: str | None = None
) -> Response:
    symbols = list(dict.fromkeys(t.strip().upper() for t in tickers.split(",") if t.strip()))
    context: dict[str, Any] = {
        "tickers": ",".join(symbols),
        "watch_url": "/watch?" + urlencode({"tickers": ",".join(symbols)}) if symbols else None,
        "window": window if window in WINDOWS else DEFAULT_WINDOW,
        "windows": [(key, WINDOW_LABELS[key]) for key in WINDOWS],
        "known": forecaster.tickers(),
        "data": None,
        "message": None,
    }
    if window and window not in WINDOWS:
        context["message"] = f"Pick a window among {', '.join(WINDOWS)}."
        return render(request, "compare.html", 400, **context)
    if not symbols:
        # A form that is ready to go: three known tickers, written in, not a grey hint.
        known = dict.fromkeys(t["ticker"] for t in context["known"])
        context["tickers"] = ",".join(list(known)[:3])
        return render(request, "compare.html", **context)
    if not 2 <= len(symbols) <= MAX_COMPARE:
        context["message"] = f"Pick between 2 and {MAX_COMPARE} tickers to compare."
        return render(request, "compare.html", 400, **context)
    try:
        closes = {s: adjusted((await forecaster.history(s)).frame)["close"] for s in symbols}
    except TickercastError as exc:
        context["message"] = sentence(exc.client_message)
        return render(request, "compare.html", exc.status, **context)
    joined = in_window(pd.DataFrame(closes).sort_index(), context["window"])
    context["data"] = compare_data(joined, symbols)
    return render(request, "compare.html", **context)


def compare_data(joined: pd.DataFrame, symbols: list[str]) -> Markup:
    """The compare page's data: each ticker's closes scaled to 100 at its first. Each ticker's
    calibrated forecast and backtest come from the JSON API afterwards, scaled by the same
    first price as its line."""
    query = _query({"periods": str(PAGE_HORIZON), "method": PAGE_METHOD})
    return page_json(
        {
            "ds": [d.strftime("%Y-%m-%d") for d in joined.index],
            "series": {s: normalised(joined[s]).round(3).tolist() for s in symbols},
            "first": {s: first_value(joined[s]) for s in symbols},
            "forecast_urls": {s: f"/api/forecast/{quote(s, safe='')}?{query}" for s in symbols},
            "backtest_urls": {s: f"/api/backtest/{quote(s, safe='')}?{query}" for s in symbols},
            "interval_width": INTERVAL_WIDTH,
        }
    )
