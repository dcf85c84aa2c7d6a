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
    MAX_HORIZON,
    METHODS,
    PAGE_HORIZON,
    PAGE_METHOD,
    WINDOWS,
)
from tickercast.web.series_checks import FIRST_YEAR, ISO_DATE, LAST_YEAR, MAX_VALUE
from tickercast.web.track_record import DEFAULT_LIMIT, MAX_LIMIT

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
    "items": {
        "type": "object",
        "required": list(FORECAST_COLUMNS),
        "properties": {c: {"type": "string"} if c == "ds" else _NUMBER for c in FORECAST_COLUMNS},
    },
}
FORECAST_ANSWER: dict[str, Any] = {
    "type": "object",
    "required": ["ticker", "source", "periods", "freq", "interval_width", "history", "forecast"],
    "properties": {
        "ticker": {"type": "string"},
        "source": {"type": "string"},
        "periods": {"type": "integer"},
        "freq": {"type": "string"},
        "interval_width": {"type": "number"},
        "history": _HISTORY,
        "forecast": _FORECAST,
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


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def operations(max_rows: int) -> dict[tuple[str, str], dict[str, Any]]:
    """(method, path) -> what FastAPI cannot see: bodies, answers, errors."""
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
                operation.update({k: v for k, v in extra.items() if k != "responses"})
                operation["responses"] = extra["responses"]
    return schema
