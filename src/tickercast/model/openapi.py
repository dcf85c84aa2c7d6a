"""The OpenAPI description of `POST /`, whose body is read by hand (any Content-Type)."""

from __future__ import annotations

from typing import Any

from tickercast.contract import RESPONSE_KEYS

_ERROR = {
    "type": "object",
    "required": ["message"],
    "properties": {"message": {"type": "string"}},
}

REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["key", "ds", "y"],
    "properties": {
        "key": {"type": "string", "description": "The shared secret."},
        "ds": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Dates or timestamps in any form pandas parses.",
        },
        "y": {
            "type": "array",
            "items": {"anyOf": [{"type": "number"}, {"type": "string"}, {"type": "null"}]},
            "description": "Observed values: numbers, numeric strings, or null for missing.",
        },
        "periods": {"type": "integer", "minimum": 1, "default": 100},
        "freq": {
            "type": "string",
            "description": "'D', 'B', or an exchange calendar code such as 'XNYS'. "
            "Default: inferred from ds.",
        },
        "include_history": {"type": "boolean", "default": False},
        "interval_width": {
            "type": "number",
            "exclusiveMinimum": 0,
            "exclusiveMaximum": 1,
            "default": 0.8,
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
}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ERROR}}}


FORECAST_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "Read as JSON whatever the Content-Type header says.",
        "content": {"application/json": {"schema": REQUEST_SCHEMA}},
    },
    "responses": {
        "200": {
            "description": "The forecast, one object per column keyed by row label.",
            "content": {"application/json": {"schema": RESPONSE_SCHEMA}},
        },
        "400": _error("Body not a JSON object, or invalid input."),
        "401": _error("No key submitted."),
        "403": _error("Invalid key."),
        "413": _error("Request too large."),
        "429": _error("Rate limit exceeded; see Retry-After."),
        "500": _error("Unexpected error; details in the service log."),
        "503": _error("Service busy or fit timed out; see Retry-After."),
    },
}

NOT_READY_OPENAPI: dict[int | str, dict[str, Any]] = {
    503: _error("Warming up, or the engine failed to start.")
}
