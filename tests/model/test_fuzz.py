"""Whatever JSON a client sends, the answer is a forecast or a clear 4xx, never a crash."""

from __future__ import annotations

import orjson
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tickercast.contract import RESPONSE_KEYS, parse_request
from tickercast.errors import InvalidInput
from tickercast.model.api import create_app
from tickercast.settings import ModelSettings

# orjson (which encodes the bodies here) writes integers up to 64 bits; bigger ones are sent as
# raw JSON text by their own test below.
int64 = st.integers(-(2**63), 2**63 - 1)
scalars = st.none() | st.booleans() | int64 | st.floats() | st.text(max_size=12)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner),
    max_leaves=6,
)
dates = st.dates().map(str) | st.datetimes().map(str) | st.text(max_size=12)
values = st.none() | st.floats() | st.integers(-(10**6), 10**6) | st.text(max_size=6)


@st.composite
def requests(draw: st.DrawFn) -> dict[str, object]:
    n = draw(st.integers(0, 8))
    body: dict[str, object] = {
        "ds": draw(st.lists(dates, min_size=n, max_size=n)),
        "y": draw(st.lists(values, min_size=n, max_size=n + draw(st.integers(0, 1)))),
    }
    for field in ("periods", "freq", "include_history", "interval_width"):
        if draw(st.booleans()):
            body[field] = draw(
                st.integers(-2, 12) | st.sampled_from(["D", "B", "XNYS", "x"]) | json_values
            )
    return body


@given(requests())
@settings(max_examples=300, deadline=None)
def test_parse_request_accepts_or_says_what_is_wrong(body: dict[str, object]) -> None:
    try:
        req = parse_request(body)
    except InvalidInput as exc:
        assert exc.message.startswith("invalid input: ")
    else:
        assert req.n == len(req.ds) == len(req.y) and req.periods >= 1


@given(requests())
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_service_answers_every_body_with_a_forecast_or_a_400(body: dict[str, object]) -> None:
    app = create_app(
        ModelSettings(model_api_keys="k", model_mock=True, model_rate_limit="1/second")
    )
    with TestClient(app) as client:
        resp = client.post("/", content=orjson.dumps({"key": "k", **body}))
        if resp.status_code == 200:
            assert list(resp.json()) == list(RESPONSE_KEYS)
        else:
            assert resp.status_code == 400
            assert set(resp.json()) == {"message"}
        health = client.get("/healthz")
    assert health.status_code == 200


BIG = "123456789012345678901234567890"


def test_integers_past_64_bits_get_a_forecast_or_a_400() -> None:
    app = create_app(ModelSettings(model_api_keys="k", model_mock=True))
    days = '["2020-01-01", "2020-01-02", "2020-01-03"]'
    with TestClient(app) as client:
        as_periods = client.post(
            "/", content=f'{{"key": "k", "ds": {days}, "y": [1, 2, 3], "periods": {BIG}}}'
        )
        as_value = client.post("/", content=f'{{"key": "k", "ds": {days}, "y": [1, {BIG}, 3]}}')
    assert as_periods.status_code == 400
    assert as_periods.json() == {"message": "invalid input: periods must be a positive integer"}
    assert as_value.status_code == 200  # read as the float 1.23e29, like any JSON number
    assert list(as_value.json()) == list(RESPONSE_KEYS)
