"""The model service's /openapi.json tells the truth: schemathesis generates requests from it
(a fixed seed, a bounded number of cases) against the mock in-process and holds every answer to
all of its checks: no server error; status, headers and body as documented; every request the
schema allows is accepted. Bodies outside the schema are the fuzz tests' part (test_fuzz.py);
here other methods on each path are tried too (405 with `Allow`)."""

from __future__ import annotations

import time

import hypothesis
import jsonschema_rs
import pytest
import schemathesis

from tests.model.test_api import KEY, settings
from tickercast.model.api import create_app
from tickercast.model.openapi import REQUEST_SCHEMA

SEED = 20261129  # with no example database either, every run draws the same cases

READY_SECONDS = 120  # the engine's warm-up, however long a busy machine takes over it

# The mock in-process; no request-rate limit gets in the way of the generated requests.
APPS = [create_app(settings(model_rate_limit="1000000/minute")) for _ in range(2)]
# POST /backtest is left out: how many folds fit in a series is arithmetic JSON Schema cannot say;
# POST /batch too: ids unique across items is a rule JSON Schema cannot say (test_batch_api.py).
schema = (
    schemathesis.openapi.from_asgi("/openapi.json", APPS[0])
    .exclude(path="/backtest")
    .exclude(path="/batch")
)
schema.config.generation.update(modes=[schemathesis.GenerationMode.POSITIVE])
# Outside the schema: bodies, and other methods on its path (405 with `Allow`).
negative = schemathesis.openapi.from_asgi("/openapi.json", APPS[1]).include(path="/", method="POST")
negative.config.generation.update(modes=[schemathesis.GenerationMode.NEGATIVE])


@pytest.fixture(autouse=True)
def _ready() -> None:
    """Each test's cases start once its model is ready: the app's lifespan (begun by the first
    request of each test, ended after it) warms the engine up in a thread, and until that is
    done `/readyz` answers 503 "warming up"; it is asked again until it says ready."""
    for app in APPS:
        readyz = schemathesis.openapi.from_asgi("/openapi.json", app)["/readyz"]["GET"]
        deadline = time.monotonic() + READY_SECONDS
        while (status := readyz.Case().call().status_code) != 200:
            assert time.monotonic() < deadline, f"the model was not ready in time ({status})"
            time.sleep(0.05)


VALID_BODY = jsonschema_rs.Draft202012Validator(REQUEST_SCHEMA)


def same_length(body: dict[str, object]) -> None:
    """The one rule JSON Schema cannot say: ds and y have the same length. y is cut (its nulls
    first) or repeated to the length of ds, keeping its two values that are not null."""
    ds, y = body["ds"], body["y"]
    assert isinstance(ds, list) and isinstance(y, list)
    if len(y) > len(ds):
        values = [v for v in y if v is not None]
        y = (values + [None] * len(ds))[: len(ds)]
    body["y"] = (y * len(ds))[: len(ds)]


@schema.parametrize()
@hypothesis.seed(SEED)
@hypothesis.settings(max_examples=200, deadline=None, database=None)
def test_every_request_the_schema_allows_gets_the_documented_answer(
    case: schemathesis.Case,
) -> None:
    if isinstance(case.body, dict):
        case.body["key"] = KEY  # the right key, so the input rules are reached
        same_length(case.body)
        if not VALID_BODY.is_valid(case.body):
            # The generator's coverage phase ignores `minContains` (calibrated's 120 values).
            return
    response = case.call_and_validate()
    if case.method == "POST":
        assert response.status_code == 200, response.text  # a forecast for every one of them


@negative.parametrize()
@hypothesis.seed(SEED)
@hypothesis.settings(max_examples=100, deadline=None, database=None)
def test_requests_outside_the_schema_get_documented_answers(case: schemathesis.Case) -> None:
    """Every check but one: the service reads more than the schema promises (other date forms,
    duplicate dates, exchange codes), so a body outside the schema may well get a forecast."""
    case.call_and_validate(excluded_checks=[schemathesis.checks.negative_data_rejection])
