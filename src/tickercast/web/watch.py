"""The watchlist's use cases: many tickers at once, in two steps.

First the prices: every ticker's looked up at once (each within the price budget), each a row
of its own: a symbol no source has, or one that is not a symbol, is a row that says why, never
a failure of the list. Then the model: one batch for the forecasts the answer cache lacks and
one for the 5-origin backtests (the model's POST /batch and POST /backtest with `series`), and
the track record's summaries in one read. Each ticker's request is built exactly as its ticker
page builds it (`PreparedForecast.of` of `model_series`, `model_request`), so the answers are
cached under the keys that page asks for, and the page finds them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

import anyio
import anyio.to_thread
import orjson
from sqlalchemy import Engine

from tickercast.contract import iso_dates
from tickercast.data.prices import PriceLookup
from tickercast.errors import InvalidInput, TickercastError, sentence
from tickercast.record import queries
from tickercast.record.buffer import Recorder
from tickercast.runtime.lru import LRU
from tickercast.web import backtest, notes, odds
from tickercast.web.forecasts import (
    INTERVAL_WIDTH,
    PREPARED_MAX_ITEMS,
    Forecaster,
    PreparedForecast,
    SeriesLists,
    frame_digest,
    lists_of,
    model_series,
)
from tickercast.web.model_client import ModelAnswer, ModelRejected, model_request
from tickercast.web.series import FORECAST_COLUMNS, PAGE_LEVELS, answer_rows
from tickercast.web.track_record import RecordUnavailable, read

MAX_TICKERS = 50
SPARK_SESSIONS = 126  # six months of sessions in a row's sparkline
FAN_POINTS = 40  # the forecast's steps a sparkline's fan is drawn through, at most
WATCH_CUTOFFS = 5  # origins of a row's backtest (the ticker page has the full one)
SHOWN_SYMBOL = 20  # characters of an unreadable symbol a row repeats
# The table's columns, as the CSV download has them (the JSON rows have these and more).
COLUMNS = (
    "ticker",
    "name",
    "source",
    "currency",
    "last_date",
    "last",
    "forecast_date",
    "forecast",
    "lower",
    "upper",
    "chance_higher",
    "band_ratio",
    "backtest_mase",
    "backtest_coverage",
    "backtest_horizon",
    "record_scored",
    "record_mase",
    "record_coverage",
    "error",  # why the row has no prices
    "forecast_error",  # why it has prices but no forecast, backtest or track record
    "backtest_error",
    "record_error",
)


def parse_tickers(text: str) -> list[str]:
    """The symbols of a comma-separated list, upper case, each once, in order; 400 for none
    or more than `MAX_TICKERS` (a malformed symbol is its row's business, not the list's)."""
    symbols = list(dict.fromkeys(t.strip().upper() for t in text.split(",") if t.strip()))
    if not symbols:
        raise InvalidInput("give one ticker or more, separated by commas")
    if len(symbols) > MAX_TICKERS:
        raise InvalidInput(
            f"a watchlist holds at most {MAX_TICKERS} tickers; this one has {len(symbols)}"
        )
    return symbols


@dataclass
class Watched:
    """One ticker of the list: its row so far and, once priced, what its requests need."""

    row: dict[str, Any]
    prepared: PreparedForecast | None = None
    series: SeriesLists | None = None
    freq: str | None = None


# Rows of prices made lately, by provider, ticker, horizon, method and a digest of the prices
# (a miss makes the same again): a warm watchlist does no pandas work.
_MADE: LRU[tuple[object, ...], Watched] = LRU(PREPARED_MAX_ITEMS)


def empty_row(asked: str) -> dict[str, Any]:
    """A row with nothing known yet: every column None."""
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row.update(ticker=asked[:SHOWN_SYMBOL], url=None, notes=[], spark=None, fan=None)
    return row


def failed_row(asked: str, exc: TickercastError) -> Watched:
    row = empty_row(asked)
    row["error"] = sentence(exc.client_message)
    return Watched(row)


def priced_row(lookup: PriceLookup, horizon: int, method: str) -> Watched:
    """A row of prices, and the requests of its forecast and backtest (pandas work: run in a
    worker thread; made once per ticker, horizon, method and prices, then kept)."""
    prices = lookup.history
    key = (prices.provider, prices.ticker, horizon, method, frame_digest(prices.frame))
    made = _MADE.get(key)
    if made is None:
        made = _priced_row(lookup, horizon, method)
        _MADE.put(key, made)
    # A row of its own (filling it changes it), with the page's notes of this lookup.
    return replace(made, row={**made.row, "notes": lookup.notes()})


def _priced_row(lookup: PriceLookup, horizon: int, method: str) -> Watched:
    prices = lookup.history
    series = model_series(prices.frame)
    row = empty_row(prices.ticker)
    row.update(
        name=prices.name,
        source=prices.provider,
        currency=prices.currency,
        url=f"/t/{quote(prices.ticker, safe='')}",
        notes=lookup.notes(),
    )
    if series.empty:
        row["error"] = f"No usable prices for {prices.ticker}."
        return Watched(row)
    spark = series.iloc[-SPARK_SESSIONS:]  # already adjusted, without gaps
    row.update(
        last_date=series.index[-1].strftime("%Y-%m-%d"),
        last=round(float(series.iloc[-1]), 6),
        band_ratio=_rounded(notes.band_width_ratio(series.tolist()), 3),
        spark={"ds": iso_dates(spark.index), "close": [round(v, 4) for v in spark.tolist()]},
    )
    prepared = PreparedForecast.of(series, horizon, prices.calendar, method, prices.currency)
    return Watched(row, prepared, lists_of(series), prices.calendar)


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


async def priced(
    forecaster: Forecaster, symbols: Sequence[str], horizon: int, method: str
) -> list[Watched]:
    """Every ticker's row of prices, looked up at once (each bounded by the price budget)."""
    found: dict[str, PriceLookup | TickercastError] = {}

    async def look(symbol: str) -> None:
        try:
            found[symbol] = await forecaster.lookup(symbol)
        except TickercastError as exc:
            found[symbol] = exc

    async with anyio.create_task_group() as tasks:
        for symbol in symbols:
            tasks.start_soon(look, symbol)

    def rows() -> list[Watched]:
        made = []
        for symbol in symbols:
            outcome = found[symbol]
            if isinstance(outcome, TickercastError):
                made.append(failed_row(symbol, outcome))
            else:
                made.append(priced_row(outcome, horizon, method))
        return made

    return await anyio.to_thread.run_sync(rows)


async def fill(
    forecaster: Forecaster,
    watched: Sequence[Watched],
    horizon: int,
    method: str,
    recorder: Recorder | None,
) -> None:
    """The rows' forecasts, backtests and track records, asked at once: one batch for the
    forecasts, one for the backtests, one read of the record."""
    ready = {w.row["ticker"]: w for w in watched if w.prepared is not None}
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(fill_forecasts, forecaster, ready, horizon)
        tasks.start_soon(fill_backtests, forecaster, ready, horizon, method)
        if recorder is not None:
            tasks.start_soon(fill_records, recorder, ready, method)


async def fill_forecasts(forecaster: Forecaster, ready: dict[str, Watched], horizon: int) -> None:
    requests = {name: w.prepared.request for name, w in ready.items() if w.prepared}
    outcomes = await forecaster.model_answers("forecast", requests)
    for name, outcome in outcomes.items():
        row = ready[name].row
        if isinstance(outcome, ModelAnswer):
            answer = orjson.loads(outcome.content)
            row.update(forecast_columns(answer_rows(answer, answer_columns(answer)), row["last"]))
        else:
            row["forecast_error"] = sentence(outcome.client_message)


def answer_columns(answer: dict[str, Any]) -> tuple[str, ...]:
    """The shown columns and any band the answer states at a level (for the chance)."""
    return FORECAST_COLUMNS + tuple(
        k for k in answer if k.startswith(("yhat_lower_", "yhat_upper_"))
    )


def forecast_columns(rows: list[dict[str, Any]], last: float) -> dict[str, Any]:
    """A row's forecast columns: the centre and band at the horizon, the chance of ending
    above `last`, and the fan a sparkline draws (at most `FAN_POINTS` of the steps)."""
    end = rows[-1]
    every = max(1, -(-len(rows) // FAN_POINTS))
    steps = list(range(every, len(rows) + 1, every))
    if steps[-1] != len(rows):
        steps.append(len(rows))
    thinned = [rows[step - 1] for step in steps]
    return {
        "forecast_date": end["ds"],
        "forecast": end["yhat"],
        "lower": end["yhat_lower"],
        "upper": end["yhat_upper"],
        "chance_higher": odds.chance_above(
            last, odds.row_quantiles(end, PAGE_LEVELS, INTERVAL_WIDTH)
        ),
        "fan": {
            "step": steps,
            "ds": [r["ds"] for r in thinned],
            "yhat": [r["yhat"] for r in thinned],
            "lower": [r["yhat_lower"] for r in thinned],
            "upper": [r["yhat_upper"] for r in thinned],
        },
    }


async def fill_backtests(
    forecaster: Forecaster, ready: dict[str, Watched], horizon: int, method: str
) -> None:
    """Each row's backtest at the horizon asked, or at the longest shorter one its history
    allows (a batch more only for the rows the model refused)."""
    waiting = {name: w for name, w in ready.items() if w.series is not None}
    refusals: dict[str, ModelRejected] = {}
    for steps in backtest.horizons_to_try(horizon):
        if not waiting:
            return
        requests = {name: backtest_request(w, method, steps) for name, w in waiting.items()}
        outcomes = await forecaster.model_answers("backtest", requests)
        for name, outcome in outcomes.items():
            if isinstance(outcome, ModelRejected):
                refusals.setdefault(name, outcome)
                continue
            watched = waiting.pop(name)
            if isinstance(outcome, ModelAnswer):
                watched.row.update(backtest_columns(orjson.loads(outcome.content), method))
            else:
                watched.row["backtest_error"] = sentence(outcome.client_message)
    for name, watched in waiting.items():
        watched.row["backtest_error"] = sentence(refusals[name].client_message)


def backtest_request(watched: Watched, method: str, horizon: int) -> dict[str, Any]:
    """The request of the ticker page's backtest, at `WATCH_CUTOFFS` origins."""
    assert watched.series is not None
    ds, y = watched.series
    return model_request(
        ds, y, watched.freq, INTERVAL_WIDTH, method, horizon=horizon, cutoffs=WATCH_CUTOFFS
    )


def backtest_columns(result: dict[str, Any], method: str) -> dict[str, Any]:
    overall = (result["scores"].get(method) or {}).get("overall") or {}
    return {
        "backtest_mase": overall.get("relative_mae"),
        "backtest_coverage": overall.get("coverage"),
        "backtest_horizon": int(result["horizon"]),
    }


async def fill_records(recorder: Recorder, ready: dict[str, Watched], method: str) -> None:
    """Each row's track record, when it has one (all in one trip to the database)."""
    symbols = list(ready)

    def summaries(engine: Engine) -> dict[str, dict[str, Any] | None]:
        return {s: queries.summary(engine, s, method) for s in symbols}

    try:
        found = await read(recorder, summaries)
    except RecordUnavailable as exc:
        for watched in ready.values():
            watched.row["record_error"] = sentence(exc.client_message)
        return
    for name, record in found.items():
        if record is not None:
            ready[name].row.update(
                record_scored=record["scored"],
                record_mase=record["mase"],
                record_coverage=record["coverage"],
            )


async def table(
    forecaster: Forecaster,
    symbols: Sequence[str],
    horizon: int,
    method: str,
    recorder: Recorder | None,
) -> list[dict[str, Any]]:
    """Every row, filled as far as the prices, the model and the record allow."""
    watched = await priced(forecaster, symbols, horizon, method)
    await fill(forecaster, watched, horizon, method, recorder)
    return [w.row for w in watched]
