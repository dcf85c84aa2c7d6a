"""Schemathesis against the web API's own /openapi.json, the app wired in-process to the model
service in mock mode: every documented operation, schema-valid and schema-invalid inputs, a
fixed seed and a bounded number of cases. No answer may be a server error or differ from what
the schema says (status, content type, body, headers); what the schema refuses must be refused.
"""

from __future__ import annotations

import datetime as dt

import httpx
import numpy as np
import pandas as pd
import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from schemathesis.generation import GenerationMode

from tests.support import fakes
from tests.support.shown import shown
from tickercast.model.api import create_app as create_model_app
from tickercast.record import db, scorer, writes
from tickercast.settings import ModelSettings
from tickercast.web.app import create_app
from tickercast.web.model_client import ModelClient

CASES_PER_OPERATION = 100
CALIBRATED_MIN = 120  # prices the calibrated forecast needs, as the schema's descriptions say
KNOWN = [ticker for provider in fakes.providers().values() for ticker in provider.tickers()]
OPERATIONS = [
    ("GET", "/api/tickers"),
    ("GET", "/api/forecast/{ticker}"),
    ("GET", "/api/backtest/{ticker}"),
    ("GET", "/api/analysis/{ticker}"),
    ("POST", "/api/forecast"),
    ("POST", "/api/backtest"),
    ("GET", "/api/track-record/{ticker}"),
    ("GET", "/api/track-record/{ticker}/forecasts"),
    ("GET", "/api/watch/prices"),
    ("GET", "/api/watch"),
    ("GET", "/api/watch.csv"),
]


@pytest.fixture(scope="module")
def web_schema() -> schemathesis.BaseSchema:
    model_settings = ModelSettings(
        model_api_keys=fakes.KEY,  # type: ignore[arg-type]
        model_mock=True,
        model_rate_limit="100000/second",
    )
    # The model app answering in this process: what a socket would carry, without one.
    model_app = httpx.ASGITransport(create_model_app(model_settings))
    model = ModelClient(fakes.MODEL_URL, fakes.KEY, timeout=10, retries=0, transport=model_app)
    settings = fakes.settings()
    keep_a_record(settings.record_url)
    app = create_app(settings, providers=fakes.providers(), model_client=model)
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def keep_a_record(url: str) -> None:
    """A track record of every known ticker, both methods and both kinds, so schema-valid
    cases find one (and scored, so its answers have numbers)."""
    engine = db.open_engine(url)
    shown_ones = [
        shown(ticker, method=method, kind=kind, source=name, as_of="2020-01-02")
        for name, provider in fakes.providers().items()
        for ticker in provider.tickers()
        for method in ("calibrated", "prophet")
        for kind in ("live", "replayed")
    ]
    writes.store(engine, shown_ones)
    days = pd.bdate_range("2020-01-02", periods=10)
    scorer.score(engine, lambda t, s: pd.Series(100.0 + np.arange(10.0), index=days))
    engine.dispose()


def test_every_api_operation_is_fuzzed(web_schema) -> None:
    found = [(op.ok().method.upper(), op.ok().path) for op in web_schema.get_all_operations()]
    assert sorted(found) == sorted(OPERATIONS)


def as_many_values_as_dates(case: schemathesis.Case) -> schemathesis.Case:
    """The rules of a posted series that JSON Schema cannot state (its description does): y
    has as many values as ds has dates, and fewer than 120 ask for plain Prophet."""
    ds, y = case.body["ds"], case.body["y"]
    case.body["y"] = (y * len(ds))[: len(ds)]
    if len(ds) < CALIBRATED_MIN:
        case.body["method"] = "prophet"
    return case


def enough_rows_to_backtest(case: schemathesis.Case) -> schemathesis.Case:
    """The backtest's rule, as the schema's description says: prophet needs cutoffs (5) +
    periods + 2 rows; short series get the days after their last date added."""
    body = case.body
    body["method"] = "prophet"
    periods = body.get("periods", 100)
    last = max(dt.date.fromisoformat(d) for d in body["ds"])
    extra = max(0, 5 + periods + 2 - len(body["ds"]))
    body["ds"] = body["ds"] + [str(last + dt.timedelta(days=k + 1)) for k in range(extra)]
    body["y"] = (body["y"] * len(body["ds"]))[: len(body["ds"])]
    return case


def half_of_them_known(case: schemathesis.Case) -> schemathesis.Case:
    """Random symbols are all unknown (404): half the cases ask for a ticker the app has."""
    ticker = case.path_parameters["ticker"]
    if len(ticker) % 2 == 0:
        case.path_parameters["ticker"] = KNOWN[len(ticker) % len(KNOWN)]
    query = case.query or {}
    if query.get("window") == "3m":  # 63 prices: calibrated needs 120 (the schema says so)
        case.query = {**query, "method": "prophet"}
    return case


def a_watchlist(case: schemathesis.Case) -> schemathesis.Case:
    """At most 50 symbols (the rule JSON Schema cannot state, as its description says), and
    half the lists the known tickers, so rows are filled."""
    query = case.query or {}
    items = [t for t in str(query.get("tickers", "")).split(",") if t.strip()]
    if len(items) % 2 == 0:
        items = KNOWN[: 1 + len(items) % len(KNOWN)]
    case.query = {**query, "tickers": ",".join(items[:50])}
    return case


# /api/tickers has no parameters and no body: nothing to send that its schema forbids.
CASES = [
    pytest.param(method, path, mode, id=f"{method} {path} {mode.value}")
    for method, path in OPERATIONS
    for mode in GenerationMode
    if not (mode is GenerationMode.NEGATIVE and path == "/api/tickers")
]


@pytest.mark.parametrize(("method", "path", "mode"), CASES)
def test_web_api_answers_as_its_schema_says(web_schema, method, path, mode) -> None:
    operation = web_schema[path][method]
    calls = []

    strategy = operation.as_strategy(generation_mode=mode)
    if mode is GenerationMode.POSITIVE and method == "POST":
        strategy = strategy.map(as_many_values_as_dates)
    if mode is GenerationMode.POSITIVE and path == "/api/backtest":
        strategy = strategy.map(enough_rows_to_backtest)
    if mode is GenerationMode.POSITIVE and "{ticker}" in path:
        strategy = strategy.map(half_of_them_known)
    if mode is GenerationMode.POSITIVE and path.startswith("/api/watch"):
        strategy = strategy.map(a_watchlist)

    @given(case=strategy)
    @seed(20261129)
    @settings(
        max_examples=CASES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def run(case: schemathesis.Case) -> None:
        calls.append(case.call_and_validate())

    run()
    if mode is GenerationMode.POSITIVE:  # schema-valid cases that the app answered for real
        assert any(response.status_code == 200 for response in calls)
