"""What the recorded provider exchanges in tests/fixtures/providers expect."""

from __future__ import annotations

import datetime as dt
import socket
import traceback

import pytest

NASDAQ_KEY = "test-nasdaq-key-5f2c81"
TIINGO_KEY = "test-tiingo-key-7b3a94"
ALL_KEYS = (
    NASDAQ_KEY,
    TIINGO_KEY,
    "revoked-nasdaq-key-9d1e07",
    "limited-nasdaq-key-3e4f55",
    "revoked-tiingo-key-2c8f61",
    "blocked-tiingo-key-6a0b32",
    "limited-tiingo-key-8d7c19",
)
START, END = dt.date(2013, 2, 20), dt.date(2013, 3, 1)
# The real AAPL closes of those sessions (Quandl WIKI), as recorded.
AAPL_CLOSES = [448.85, 446.06, 450.81, 442.80, 448.97, 444.57, 441.40, 430.47]


def assert_no_key(exc: BaseException, caplog: pytest.LogCaptureFixture) -> None:
    """No key in the exception, its traceback, or anything logged."""
    text = "".join(traceback.format_exception(exc)) + repr(exc) + str(getattr(exc, "message", ""))
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for key in ALL_KEYS:
        assert key not in text
        assert key not in logged


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"
