"""The benchmark's code stays runnable: its data, request bodies and reference service."""

from __future__ import annotations

import pytest

# They import cleanly (batch, nightly, page_backtest and watch: `make bench` runs them too).
from bench import (  # noqa: F401
    batch,
    floor,
    nightly,
    page_backtest,
    procs,
    report,
    timing,
    watch,
)
from bench.cases import check_rows
from bench.data import Windows, load_series, request_body
from bench.reference import app
from starlette.testclient import TestClient


@pytest.mark.slow  # the reference service fits real Prophet
def test_reference_service_answers_a_tiny_series_in_the_original_shape() -> None:
    series = load_series()
    windows = Windows(series)
    (start,) = windows.take(40, 1)
    assert windows.take(40, 1) != [start]  # never the same window twice
    body = request_body(series, start, 40, key=None, periods=5)

    with TestClient(app) as client:
        response = client.post("/", content=body)  # no Content-Type, like the original client

    assert response.status_code == 200
    check_rows(response, rows=40, periods=5)  # the check the benchmark makes of every service
    table = response.json()
    assert {"ds", "yhat", "yhat_lower", "yhat_upper", "trend"} <= set(table)
    assert sorted(table["yhat"], key=int) == [str(label) for label in range(40, 45)]
    assert all(isinstance(value, float) for value in table["yhat"].values())
