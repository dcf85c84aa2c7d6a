"""The OpenAPI description of `POST /`, whose body is read by hand (any Content-Type)."""

from __future__ import annotations

from typing import Any

from tickercast.contract import (
    CALIBRATED,
    CALIBRATED_MIN_ROWS,
    DEFAULT_BACKTEST_HORIZON,
    DEFAULT_CUTOFFS,
    DEFAULT_INTERVAL_WIDTH,
    DEFAULT_METHOD,
    DEFAULT_PERIODS,
    ENGINES,
    LEVEL_KEY_PATTERN,
    MAX_CUTOFFS,
    MAX_LEVELS,
    METHODS,
    RESPONSE_KEYS,
    BatchLimits,
    Limits,
)

_ERROR = {
    "type": "object",
    "required": ["message"],
    "properties": {"message": {"type": "string"}},
}

# The schema describes requests the service always accepts (every one of them gets a forecast),
# so generated requests can be held to that. The service reads more than this, as the README's
# model section says (any date form pandas parses, duplicate dates, exchange calendar codes,
# other years): what is outside the schema may be refused with a 400 that says why.
# Dates: 1900 to 2169 with days up to 28, so any two of them and a forecast of the longest
# horizon stay within the 290-year span Prophet can measure and before 2200.
DATE_PATTERN = r"^(19[0-9]{2}|20[0-9]{2}|21[0-6][0-9])-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$"
NUMBER_PATTERN = r"^-?[0-9]{1,12}(\.[0-9]{1,12})?$"
LIMITS = Limits()  # the service's default limits (the settings may set others)

REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["key", "ds", "y"],
    "properties": {
        "key": {"type": "string", "description": "The shared secret."},
        "ds": {
            "type": "array",
            "minItems": 2,
            "maxItems": LIMITS.max_rows,
            "uniqueItems": True,
            "items": {"type": "string", "pattern": DATE_PATTERN},
            "description": "Dates, as many as y has values. Also read: other forms pandas "
            "parses, times of day, duplicates (see the README).",
        },
        "y": {
            "type": "array",
            "minItems": 2,
            "maxItems": LIMITS.max_rows,
            "items": {
                "anyOf": [
                    {"type": "number", "minimum": -1e12, "maximum": 1e12},
                    {"type": "string", "pattern": NUMBER_PATTERN},
                    {"type": "null"},
                ]
            },
            "contains": {"not": {"type": "null"}},
            "minContains": 2,
            "description": "Observed values, as many as ds has dates: numbers, numeric strings, "
            "or null for missing; at least two of them not null. Magnitudes over 1e150 are "
            "refused.",
        },
        "periods": {
            "type": "integer",
            "minimum": 1,
            "maximum": LIMITS.max_periods,
            "default": DEFAULT_PERIODS,
        },
        "freq": {
            "type": "string",
            "enum": ["D", "B"],
            "description": "'D' or 'B'; also an exchange calendar code such as 'XNYS' for the "
            "dates its calendar covers. Default: inferred from ds.",
        },
        "include_history": {"type": "boolean", "default": False},
        "interval_width": {
            "type": "number",
            "exclusiveMinimum": 0,
            "exclusiveMaximum": 1,
            "default": DEFAULT_INTERVAL_WIDTH,
        },
        "method": {
            "type": "string",
            "enum": list(METHODS),
            "default": DEFAULT_METHOD,
            "description": "'prophet': Prophet's own forecast; 'calibrated': anchored at the "
            "last value, damped towards the random walk, with a band calibrated on past moves.",
        },
        "engine": {
            "type": "string",
            "enum": list(ENGINES),
            "description": "The fit engine: 'fast' (the same model's optimum found in-process, "
            "the default) or 'cmdstan' (Prophet's own optimizer).",
        },
        "levels": {
            "type": "array",
            "items": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 100},
            "minItems": 1,
            "maxItems": MAX_LEVELS,
            "uniqueItems": True,
            "description": "Central interval widths in percent, e.g. [50, 80, 95]: each level L "
            "adds yhat_lower_L and yhat_upper_L (the 50 - L/2 and 50 + L/2 percent quantiles, L "
            "in its shortest form: 80, 97.5) after the 19 keys, in increasing level, nested.",
        },
    },
    # The calibrated forecast needs CALIBRATED_MIN_ROWS values.
    "if": {"required": ["method"], "properties": {"method": {"const": CALIBRATED}}},
    "then": {
        "properties": {
            "ds": {"minItems": CALIBRATED_MIN_ROWS},
            "y": {"contains": {"not": {"type": "null"}}, "minContains": CALIBRATED_MIN_ROWS},
        }
    },
}

BACKTEST_REQUEST_SCHEMA: dict[str, Any] = {
    **REQUEST_SCHEMA,
    "properties": {
        **REQUEST_SCHEMA["properties"],
        "horizon": {"type": "integer", "minimum": 1, "default": DEFAULT_BACKTEST_HORIZON},
        "cutoffs": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_CUTOFFS,
            "default": DEFAULT_CUTOFFS,
        },
    },
}

_CELL = {"ds": {"type": "string"}}
_NUMBER = {"type": ["number", "null"]}

RESPONSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": list(RESPONSE_KEYS),
    "properties": {
        key: {
            "type": "object",
            "description": "Row label ('N', 'N+1', ...) to value.",
            "additionalProperties": {"type": "string"}
            if key == "ds"
            else {"type": ["number", "null"]},
        }
        for key in RESPONSE_KEYS
    },
    "patternProperties": {
        LEVEL_KEY_PATTERN: {
            "type": "object",
            "description": "With levels: the level's lower or upper edge, by row label.",
            "additionalProperties": {"type": ["number", "null"]},
        }
    },
}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ERROR}}}


def _operation(request: dict[str, Any], answer: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "description": "Read as JSON whatever the Content-Type header says.",
            "content": {"application/json": {"schema": request}},
        },
        "responses": {
            "200": {"description": answer, "content": {"application/json": {"schema": schema}}},
            "400": _error("Body not a JSON object, or invalid input."),
            "401": _error("No key submitted."),
            "403": _error("Invalid key."),
            "413": _error("Request too large."),
            "429": _error(
                "Rate limit exceeded (the key's requests, or its CPU: MODEL_RATE_LIMIT counts "
                "the milliseconds of one core its computed forecasts take), or (without a "
                "right key) too many wrong keys from this client; see Retry-After."
            ),
            "500": _error("Unexpected error; details in the service log."),
            "503": _error("Service busy or fit timed out; see Retry-After."),
        },
    }


_METRICS = {
    "type": "object",
    "properties": {
        name: {"type": ["number", "null"]}
        for name in (
            "mae",
            "rmse",
            "mape",
            "smape",
            "relative_mae",
            "coverage",
            "band_width",
            "direction_hit_rate",
            "interval_score",
            "interval_score_ratio",
        )
    }
    | {"count": {"type": "integer"}}
    | {
        "by_level": {
            "type": "array",
            "description": "With levels: each level's coverage, the 95% interval of it from a "
            "bootstrap over origins (low, high), and its mean interval score.",
            "items": {
                "type": "object",
                "required": ["level", "coverage", "low", "high", "interval_score"],
                "properties": {
                    name: {"type": ["number", "null"]}
                    for name in ("level", "coverage", "low", "high", "interval_score")
                },
            },
        },
        "wis": {
            "type": ["number", "null"],
            "description": "With levels: the mean weighted interval score, yhat as the median.",
        },
        "wis_ratio": {
            "type": ["number", "null"],
            "description": "With levels: wis over the random walk's with quantiles of past "
            "changes at the same levels.",
        },
        "pit": {
            "type": "array",
            "items": {"type": "integer"},
            "minItems": 10,
            "maxItems": 10,
            "description": "With levels 20, 40, 60 and 80: the counts of 10 PIT bins.",
        },
    },
}
BACKTEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["method", "horizon", "interval_width", "folds", "scores", "verdict"],
    "properties": {
        "method": {"type": "string"},
        "horizon": {"type": "integer"},
        "interval_width": {"type": "number"},
        "folds": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    k: {"type": "string"} for k in ("train_end", "test_start", "test_end")
                },
            },
        },
        "scores": {
            "type": "object",
            "description": "By method (the requested one, random_walk, random_walk_drift). "
            "relative_mae is MASE as used here: MAE over the random walk's on the same points.",
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "overall": _METRICS,
                    "by_step": {"type": "array", "items": _METRICS},
                },
            },
        },
        "verdict": {"type": "string"},
    },
}

FORECAST_OPENAPI = _operation(
    REQUEST_SCHEMA, "The forecast, one object per column keyed by row label.", RESPONSE_SCHEMA
)
BACKTEST_OPENAPI = _operation(
    BACKTEST_REQUEST_SCHEMA,
    "Rolling-origin scores of the method and of the random walk, with and without drift.",
    BACKTEST_SCHEMA,
)
NOT_READY_OPENAPI: dict[int | str, dict[str, Any]] = {
    503: _error("Warming up, or the engine failed to start.")
}

_SHARED = {k: v for k, v in REQUEST_SCHEMA["properties"].items() if k not in ("ds", "y")}
_ITEM = {
    "type": "object",
    "required": ["id", "ds", "y"],
    "properties": {
        "id": {"type": "string", "minLength": 1, "description": "Unique in the batch."},
        "ds": REQUEST_SCHEMA["properties"]["ds"],
        "y": REQUEST_SCHEMA["properties"]["y"],
        "periods": REQUEST_SCHEMA["properties"]["periods"],
        "freq": REQUEST_SCHEMA["properties"]["freq"],
    },
    "additionalProperties": False,
}
BATCH_LIMITS = BatchLimits()  # the default batch limits (the settings may set others)
BATCH_REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["key", "series"],
    "properties": {
        **_SHARED,
        "series": {
            "type": "array",
            "minItems": 1,
            "maxItems": BATCH_LIMITS.max_series,
            "items": _ITEM,
            "description": "Each item is the request POST / would get from the shared fields "
            "and the item's own (`periods` and `freq` may be set per item). More series than "
            "MODEL_BATCH_MAX_SERIES, or more rows in all than MODEL_BATCH_MAX_ROWS, is a 400; "
            "a body over MODEL_BATCH_MAX_BYTES is a 413.",
        },
    },
}
_ITEM_ERROR = {
    "type": "object",
    "required": ["message", "status"],
    "properties": {
        "message": {"type": "string"},
        "status": {"type": "integer"},
        "retry_after": {"type": "integer", "description": "Seconds, with a 429 or a 503."},
    },
}
BATCH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["forecasts", "errors"],
    "properties": {
        "forecasts": {
            "type": "object",
            "description": "By id: what POST / answers for the series.",
            "additionalProperties": RESPONSE_SCHEMA,
        },
        "errors": {
            "type": "object",
            "description": "By id: the error POST / would answer for the series, with its "
            "status (400 bad series, 429 over the key's MODEL_RATE_LIMIT of CPU, 503 busy).",
            "additionalProperties": _ITEM_ERROR,
        },
    },
}
BATCH_OPENAPI = _operation(
    BATCH_REQUEST_SCHEMA, "A forecast or an error for each series, by id.", BATCH_SCHEMA
)
