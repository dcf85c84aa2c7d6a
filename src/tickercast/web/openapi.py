"""The web API's OpenAPI document, told truthfully: what each parameter accepts, the bodies of
the POST routes (read by hand, so FastAPI cannot see them), and every error each route answers.

`describe(schema)` completes the document FastAPI generates from the routes.
"""

from __future__ import annotations

from typing import Any

from tickercast.contract import CALIBRATED_MIN_ROWS, DEFAULT_PERIODS
from tickercast.quant.scoring import REGIMES
from tickercast.record.writes import KINDS
from tickercast.web.series import (
    DEFAULT_WINDOW,
    FORECAST_COLUMNS,
    LEVEL_COLUMNS,
    MAX_HORIZON,
    METHODS,
    PAGE_HORIZON,
    PAGE_LEVELS,
    PAGE_METHOD,
    WINDOWS,
)
from tickercast.web.series_checks import FIRST_YEAR, ISO_DATE, LAST_YEAR, MAX_VALUE
from tickercast.web.track_record import DEFAULT_LIMIT, MAX_LIMIT
from tickercast.web.watch import COLUMNS as WATCH_COLUMNS
from tickercast.web.watch import MAX_TICKERS

_ERROR = {
    "type": "object",
    "required": ["message"],
    "properties": {"message": {"type": "string", "description": "One sentence for the user."}},
}


def _error(description: str, retry_after: bool = False) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": _ERROR}},
    }
    if retry_after:
        answer["headers"] = {
            "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "string"}}
        }
    return answer


_MODEL_ERRORS = {
    "502": _error("The model service or a price provider failed."),
    "503": _error("The model service is busy or cannot be reached.", retry_after=True),
    "504": _error("The model service did not answer in time.", retry_after=True),
}
_TICKER_ERRORS = {
    "400": _error("A parameter is not one of its accepted values."),
    "404": _error("No price source has this ticker, or there is no such source."),
    **_MODEL_ERRORS,
}
_BODY_ERRORS = {
    "400": _error(
        "The body is not a JSON object, or the series cannot be forecast (says what and where)."
    ),
    "413": _error("The body is over the size limit."),
    **_MODEL_ERRORS,
}

# What the routes accept, as the code checks it (web/series.py, data/frames.py).
PARAMETERS: dict[str, dict[str, Any]] = {
    "ticker": {"type": "string", "pattern": r"^\s*[A-Za-z0-9][A-Za-z0-9._-]{0,14}\s*$"},
    "periods": {"type": "integer", "minimum": 1, "maximum": MAX_HORIZON, "default": PAGE_HORIZON},
    "window": {"type": "string", "enum": list(WINDOWS), "default": DEFAULT_WINDOW},
    "format": {"type": "string", "enum": ["json", "csv"], "default": "json"},
    "source": {
        "type": "string",
        "description": "A price source; by default the first that has it.",
    },
    "method": {
        "type": "string",
        "enum": [*METHODS, ""],
        "default": PAGE_METHOD,
        "description": "Empty is the default. "
        f"The calibrated forecast needs at least {CALIBRATED_MIN_ROWS} prices "
        f"(400 below that: window=3m has {WINDOWS['3m']}); prophet needs 2.",
    },
    "kind": {
        "type": "string",
        "enum": list(KINDS),
        "description": "The track record of forecasts shown (live), of the pages replayed on "
        "past days (`tickercast record`) or of every ticker of the nightly universe "
        "(`tickercast refresh --universe`, nightly); by default live once any live forecast "
        "is scored.",
    },
    "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    "tickers": {
        "type": "string",
        "pattern": r"[^\s,]",
        "description": f"Up to {MAX_TICKERS} ticker symbols separated by commas (blank ones "
        "skipped, repeats once; more is a 400, a rule JSON Schema cannot state). A symbol no "
        "source has, or that is not a symbol, is a row whose `error` says why.",
    },
}

_NUMBER = {"type": ["number", "null"]}
_HISTORY = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["ds", "close"],
        "properties": {"ds": {"type": "string"}, "close": _NUMBER},
    },
}
_FORECAST = {
    "type": "array",
    "description": "One row per future date. Each level L of "
    f"{list(PAGE_LEVELS)} adds yhat_lower_L (the 50 - L/2 percent quantile) and yhat_upper_L "
    "(the 50 + L/2 percent quantile); yhat is the median.",
    "items": {
        "type": "object",
        "required": list(FORECAST_COLUMNS),
        "properties": {
            **{c: {"type": "string"} if c == "ds" else _NUMBER for c in FORECAST_COLUMNS},
            **{c: _NUMBER for c in LEVEL_COLUMNS},
        },
    },
}
_QUANTILES = {
    "type": "array",
    "description": "The forecast's quantiles at its last date, lowest probability first (0.01, "
    "0.025, 0.05, 0.1, ..., 0.5 = yhat, ..., 0.99); empty when the model answered no levels.",
    "items": {
        "type": "object",
        "required": ["probability", "value"],
        "properties": {"probability": {"type": "number"}, "value": {"type": "number"}},
    },
}
_ODDS = {
    "type": ["object", "null"],
    "description": "The odds at the last date, read from `quantiles` by linear interpolation "
    "in log price between the two around a price. A chance of 0.01 (0.99) may stand for under "
    "1% (over 99%): beyond the outermost quantiles; `text` says which. Null without "
    "quantiles or a positive last price.",
    "required": ["price", "date", "above", "fall_10", "text"],
    "properties": {
        "price": {"type": "number", "description": "Today's (the last) price."},
        "date": {"type": "string", "description": "The forecast's last date."},
        "above": {"type": "number", "description": "The chance it ends above `price`."},
        "fall_10": {"type": "number", "description": "The chance of a fall of 10% or more."},
        "text": {"type": "array", "items": {"type": "string"}, "description": "Sentences."},
    },
}
FORECAST_ANSWER: dict[str, Any] = {
    "type": "object",
    "required": [
        "ticker",
        "source",
        "periods",
        "freq",
        "interval_width",
        "history",
        "forecast",
        "quantiles",
        "odds",
    ],
    "properties": {
        "ticker": {"type": "string"},
        "source": {"type": "string"},
        "periods": {"type": "integer"},
        "freq": {"type": "string"},
        "interval_width": {"type": "number"},
        "history": _HISTORY,
        "forecast": _FORECAST,
        "quantiles": _QUANTILES,
        "odds": _ODDS,
    },
}


_SCORES = {
    "scored": {"type": "integer"},
    "mase": _NUMBER,
    "coverage": _NUMBER,
    "interval_score": _NUMBER,
    "interval_score_ratio": _NUMBER,
}
_RECORD_HEAD = {  # null in the record of a ticker with nothing stored yet
    "ticker": {"type": "string"},
    "source": {"type": ["string", "null"]},
    "kind": {"type": ["string", "null"], "enum": [*KINDS, None]},
    "method": {"type": "string"},
    "interval_width": _NUMBER,
}
_DATE_OR_NULL = {"type": ["string", "null"], "format": "date"}
_CALIBRATION = {
    "type": "array",
    "description": "Per level (percent): how often the price fell inside that central band, "
    "the 95% interval of that share from a block bootstrap over the forecasts, and the prices "
    "scored.",
    "items": {
        "type": "object",
        "required": ["level", "coverage", "low", "high", "n"],
        "properties": {
            "level": {"type": "number"},
            "coverage": _NUMBER,
            "low": _NUMBER,
            "high": _NUMBER,
            "n": {"type": "integer"},
        },
    },
}
RECORD_ANSWER: dict[str, Any] = {
    "type": "object",
    "required": [
        *_RECORD_HEAD,
        "forecasts",
        "first_as_of",
        "last_as_of",
        *_SCORES,
        "by_step",
        "calibration",
        "wis_ratio",
    ],
    "properties": {
        **_RECORD_HEAD,
        "forecasts": {"type": "integer"},
        "first_as_of": _DATE_OR_NULL,
        "last_as_of": _DATE_OR_NULL,
        **_SCORES,
        "calibration": _CALIBRATION,
        "wis_ratio": {
            **_NUMBER,
            "description": "The weighted interval score over the levels kept ÷ the quantile "
            "random walk's at the same levels (below 1 beats it).",
        },
        "pit": {"type": "array", "items": {"type": "integer"}, "minItems": 10, "maxItems": 10},
        "by_step": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["step", *_SCORES],
                "properties": {"step": {"type": "integer"}, **_SCORES},
            },
        },
        "sentence": {"type": "string"},
        "by_month": {"type": "array", "items": {"type": "object"}},
        "regime_coverage": {
            "type": "object",
            "required": list(REGIMES),
            "properties": {regime: _NUMBER for regime in REGIMES},
        },
    },
}
_STEP = ("ds", "yhat", "yhat_lower", "yhat_upper", "actual")
RECORD_FORECASTS: dict[str, Any] = {
    "type": "object",
    "required": [*_RECORD_HEAD, "forecasts"],
    "properties": {
        **_RECORD_HEAD,
        "forecasts": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["as_of", "method", "window", "interval_width", "shown_first", "steps"],
                "properties": {
                    "as_of": {"type": "string", "format": "date"},
                    "steps": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": list(_STEP),
                            "properties": {
                                k: {"type": "string"} if k == "ds" else _NUMBER for k in _STEP
                            },
                        },
                    },
                },
            },
        },
    },
}
_RECORD_ERRORS = {
    "400": _error("A parameter is not one of its accepted values."),
    "503": _error("The track record's database is unavailable.", retry_after=True),
}


_TEXT_OR_NULL = {"type": ["string", "null"]}
_INTEGER_OR_NULL = {"type": ["integer", "null"]}
_WATCH_TEXT = {"ticker", "name", "source", "currency", "last_date", "forecast_date"}
_WATCH_ROW = {
    "type": "object",
    "required": [*WATCH_COLUMNS, "url", "notes", "spark", "fan"],
    "properties": {
        **{
            c: _TEXT_OR_NULL
            if c in _WATCH_TEXT or c.endswith("error")
            else _INTEGER_OR_NULL
            if c in ("backtest_horizon", "record_scored")
            else _NUMBER
            for c in WATCH_COLUMNS
        },
        "ticker": {"type": "string"},
        "url": {**_TEXT_OR_NULL, "description": "The ticker's page (null: no prices)."},
        "notes": {"type": "array", "items": {"type": "string"}},
        "spark": {
            "type": ["object", "null"],
            "description": "Six months of adjusted closes.",
            "required": ["ds", "close"],
        },
        "fan": {
            "type": ["object", "null"],
            "description": "The forecast at some of its steps (`step`: steps ahead): centre "
            "and band.",
            "required": ["step", "ds", "yhat", "lower", "upper"],
        },
    },
}
WATCH_ANSWER: dict[str, Any] = {
    "type": "object",
    "required": ["horizon", "method", "interval_width", "rows"],
    "properties": {
        "horizon": {"type": "integer"},
        "method": {"type": "string"},
        "interval_width": {"type": "number"},
        "rows": {"type": "array", "items": _WATCH_ROW},
    },
}
_WATCH_ERRORS = {
    "400": _error(
        f"No ticker, more than {MAX_TICKERS}, or a parameter not one of its accepted values."
    ),
}


def series_body(max_rows: int) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["ds", "y"],
        "description": "y has as many values as ds has dates, and method calibrated (the "
        f"default) needs at least {CALIBRATED_MIN_ROWS} of them (rules JSON Schema cannot state).",
        "properties": {
            "name": {"type": "string", "description": "Shown as the series' name."},
            "ds": {
                "type": "array",
                "minItems": 2,
                "maxItems": max_rows,
                "uniqueItems": True,
                "items": {"type": "string", "format": "date", "pattern": ISO_DATE},
                "description": f"Dates written YYYY-MM-DD, each once, {FIRST_YEAR} to {LAST_YEAR}.",
            },
            "y": {
                "type": "array",
                "minItems": 2,
                "maxItems": max_rows,
                "items": {"type": "number", "minimum": -MAX_VALUE, "maximum": MAX_VALUE},
                "description": "The value of each date.",
            },
            "periods": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_HORIZON,
                "default": DEFAULT_PERIODS,
            },
            "method": PARAMETERS["method"],
        },
    }


def _body(description: str, max_rows: int) -> dict[str, Any]:
    return {
        "required": True,
        "description": description + " Read as JSON whatever the Content-Type says.",
        "content": {"application/json": {"schema": series_body(max_rows)}},
    }


ANALYSIS_ANSWER: dict[str, Any] = {
    "type": "object",
    "required": [
        "ticker",
        "source",
        "method",
        "horizon",
        "page_url",
        "model_version",
        "prices",
        "forecast",
        "odds",
        "backtest",
        "record",
    ],
    "properties": {
        "ticker": {"type": "string"},
        "source": {"type": "string"},
        "method": {"type": "string", "enum": list(METHODS)},
        "horizon": {"type": "integer"},
        "page_url": {"type": "string", "description": "The ticker page this rebuilds."},
        "model_version": {"type": "string", "description": "The model's engine and release."},
        "prices": {
            **_HISTORY,
            "description": "The adjusted closes the forecast and the backtest used (the "
            "model's history: at most its last 1,250 sessions).",
        },
        "forecast": {
            "type": "array",
            "items": {"type": "object"},
            "description": "The forecast's rows, with every level's edges it has.",
        },
        "odds": {
            "type": ["object", "array"],
            "description": "The numbers of the odds sentences: the forecast's odds, or its "
            "quantiles at the horizon with the last price.",
        },
        "backtest": {
            "type": "object",
            "description": "What GET /api/backtest/{ticker} answers (folds, scores, each "
            "band's coverage with its interval), or {error} when the history is too short.",
        },
        "record": {
            "type": ["object", "null"],
            "description": "The track record's summary for the ticker and method; null when "
            "nothing is kept or the record cannot be read.",
        },
    },
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def operations(max_rows: int) -> dict[tuple[str, str], dict[str, Any]]:
    """(method, path) -> what FastAPI cannot see: bodies, answers, errors."""
    return {**_reading_operations(), **_many_ticker_operations(), **_posting_operations(max_rows)}


def _reading_operations() -> dict[tuple[str, str], dict[str, Any]]:
    """A ticker's forecast, backtest, track record and analysis."""
    return {
        ("get", "/api/forecast/{ticker}"): {
            "responses": {
                "200": {
                    "description": "History and forecast; with format=csv, the forecast as CSV.",
                    "content": {
                        "application/json": {"schema": FORECAST_ANSWER},
                        "text/csv": {"schema": {"type": "string"}},
                    },
                },
                **_TICKER_ERRORS,
            }
        },
        ("get", "/api/backtest/{ticker}"): {
            "responses": {
                "200": _json({"type": "object"}, "The backtest's folds, averages and summary."),
                **_TICKER_ERRORS,
            }
        },
        ("get", "/api/track-record/{ticker}"): {
            "responses": {
                "200": _json(
                    RECORD_ANSWER,
                    "The forecasts shown for the ticker, scored: MASE (our mean absolute error "
                    "over the random walk's from the same day), coverage of the band, interval "
                    "score and its ratio to the random walk's band's (the backtests' rule, from "
                    "the prices up to the same day), overall and by steps ahead; coverage in the "
                    "calm, middle and stormy thirds of the origins by trailing 20-session "
                    "volatility.",
                ),
                **_RECORD_ERRORS,
            }
        },
        ("get", "/api/track-record/{ticker}/forecasts"): {
            "responses": {
                "200": _json(
                    RECORD_FORECASTS,
                    "The stored forecasts, newest first; each step's actual is null until known.",
                ),
                **_RECORD_ERRORS,
            }
        },
        ("get", "/api/analysis/{ticker}"): {
            "parameter_schemas": {
                "format": {"type": "string", "enum": ["json", "zip"], "default": "json"}
            },
            "responses": {
                "200": {
                    "description": "Everything the ticker page shows, to take away and rebuild "
                    "it: the prices used, the forecast at every level, the odds' numbers, the "
                    "backtest, the track record's summary, the model's version and the page's "
                    "URL; with format=zip, the same as CSV files (about, prices, forecast, odds, "
                    "notes, backtest, backtest_folds, backtest_scores, backtest_levels, "
                    "backtest_coverage, record).",
                    "content": {
                        "application/json": {"schema": ANALYSIS_ANSWER},
                        "application/zip": {"schema": {"type": "string", "format": "binary"}},
                    },
                },
                **_TICKER_ERRORS,
            },
        },
    }


def _many_ticker_operations() -> dict[tuple[str, str], dict[str, Any]]:
    """The watchlist's prices, rows and CSV."""
    return {
        ("get", "/api/watch/prices"): {
            "responses": {
                "200": _json(
                    WATCH_ANSWER,
                    "A row per ticker, in the order asked: its last price, six months of "
                    "prices and how wide today's band is against its usual one; the model's "
                    "columns null.",
                ),
                **_WATCH_ERRORS,
            }
        },
        ("get", "/api/watch"): {
            "responses": {
                "200": _json(
                    WATCH_ANSWER,
                    "A row per ticker, in the order asked: its prices, the forecast's centre "
                    "and band at the horizon with the chance of ending higher, a backtest over "
                    "5 origins, and the track record's summary when there is one. A part the "
                    "model or the record could not give is null, with its `*_error` saying why.",
                ),
                **_WATCH_ERRORS,
            }
        },
        ("get", "/api/watch.csv"): {
            "responses": {
                "200": {
                    "description": "The table of /api/watch as CSV: "
                    + ", ".join(WATCH_COLUMNS)
                    + ".",
                    "content": {"text/csv": {"schema": {"type": "string"}}},
                },
                **_WATCH_ERRORS,
            }
        },
    }


def _posting_operations(max_rows: int) -> dict[tuple[str, str], dict[str, Any]]:
    """A posted series' forecast and backtest."""
    return {
        ("post", "/api/forecast"): {
            "requestBody": _body("The series to forecast.", max_rows),
            "responses": {"200": _json(FORECAST_ANSWER, "History and forecast."), **_BODY_ERRORS},
        },
        ("post", "/api/backtest"): {
            "requestBody": _body(
                "The series to backtest; periods is the horizon. The model needs at least "
                "cutoffs (5) + periods + 2 rows for prophet (400 below that).",
                max_rows,
            ),
            "responses": {
                "200": _json({"type": "object"}, "The backtest's folds, averages and summary."),
                **_BODY_ERRORS,
            },
        },
    }


def describe(schema: dict[str, Any], max_rows: int) -> dict[str, Any]:
    """Complete the generated document in place and return it."""
    extras = operations(max_rows)
    for path, methods in schema.get("paths", {}).items():
        for method, operation in methods.items():
            for parameter in operation.get("parameters", []):
                if parameter["name"] in PARAMETERS:
                    parameter["schema"] = dict(PARAMETERS[parameter["name"]])
            extra = extras.get((method, path))
            if extra:
                own = extra.get("parameter_schemas", {})
                for parameter in operation.get("parameters", []):
                    if parameter["name"] in own:
                        parameter["schema"] = dict(own[parameter["name"]])
                kept = {
                    k: v for k, v in extra.items() if k not in ("responses", "parameter_schemas")
                }
                operation.update(kept)
                operation["responses"] = extra["responses"]
    return schema
