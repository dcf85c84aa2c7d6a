"""Hostile and odd input to the model service: each answered with a clear 400 before any engine
runs (so the mock and Prophet refuse the same requests), or read by a documented rule; never 500.
"""

from __future__ import annotations

import logging

import orjson
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from tests.model.test_api import KEY, CountingEngine, RaisingEngine, post, settings
from tickercast.contract import parse_request
from tickercast.errors import InvalidInput
from tickercast.model.api import create_app
from tickercast.quant import calendars
from tickercast.runtime.cache import bytes_lru
from tickercast.settings import ModelSettings

WEEK = ["2020-01-06", "2020-01-07", "2020-01-08", "2020-01-09", "2020-01-10"]


def forecast_body(**fields: object) -> dict[str, object]:
    return {"key": KEY, "ds": WEEK, "y": [1, 2, 3, 4, 5], "periods": 3, **fields}


# (body fields, the 400's message after "invalid input: ")
REFUSED = [
    (
        {"ds": ["2020-01-01"] * 5},
        "every date with a value is 2020-01-01: a forecast needs at least two different dates",
    ),
    (
        {"ds": ["2020-01-01", "2020-01-01", "2020-01-02"], "y": [1, 2, None]},
        "every date with a value is 2020-01-01: a forecast needs at least two different dates",
    ),
    (
        {"ds": ["1750-01-01", "2050-01-01"], "y": [1, 2]},
        "ds and the forecast span 300 years; the longest span is 290 years",
    ),
    (
        {"ds": ["1700-01-01", "1800-01-01", "1990-12-31"], "y": [1, 2, 3], "periods": 2},
        "ds and the forecast span 291 years; the longest span is 290 years",
    ),
    ({"y": ["1_000", 2, 3, 4, 5]}, "y[0] is not a plain decimal number: '1_000'"),
    ({"y": [1, 2, "\u0661\u0662", 4, 5]}, "y[2] is not a plain decimal number: '١٢'"),
    ({"y": [1, 2, 3, "\uff14", 5]}, "y[3] is not a plain decimal number: '４'"),
    (
        {"ds": [*WEEK[:4], "2020-01-10\x00"]},
        "ds[4] holds a control character: '2020-01-10\\x00'",
    ),
    ({"ds": ["2020-01-\x0006", *WEEK[1:]]}, "ds[0] holds a control character: '2020-01-\\x0006'"),
    (
        {"ds": ["2020-01-06T00:00+00:00", "2020-01-07T00:00+05:00", *WEEK[2:]]},
        "ds[1] has the UTC offset +0500 but ds[0] has +0000: send every date with the same "
        "offset, or local dates without one",
    ),
    (
        {"ds": [*WEEK[:4], "2020-01-10T00:00-05:00"]},
        "ds[4] has the UTC offset -0500 but ds[0] has none: send every date with the same "
        "offset, or local dates without one",
    ),
    (
        {"ds": [f"2020-01-06 09:3{i}" for i in range(5)]},
        "ds has intraday steps (median 0 days 00:01:00) but the forecast is in days: send daily "
        "data, or give freq ('D', 'B' or an exchange code) to forecast days",
    ),
    (
        {"ds": ["1750-01-01", "1750-01-02"], "y": [1, 2], "freq": "XNYS"},
        "the XNYS calendar starts on 1990-01-01, after the last date of ds; use 'B' or 'D' for "
        "earlier dates",
    ),
    (
        {"freq": "XSAU"},
        "the XSAU calendar starts on 2021-01-01, after the last date of ds; use 'B' or 'D' for "
        "earlier dates",
    ),
    (
        {"ds": ["2026-12-29", "2026-12-30", "2026-12-31"], "y": [1, 2, 3], "freq": "XSHG"},
        "the XSHG calendar ends on 2026-12-31",
    ),
    (
        {"ds": ["2026-12-28", "2026-12-29", "2026-12-30"], "y": [1, 2, 3], "freq": "XSHG"},
        "the calendar XSHG has only 1 sessions ahead",
    ),
    (
        {"freq": "XTAE"},
        "the exchange calendar 'XTAE' is not available; use 'D', 'B' or another exchange code "
        "such as 'XNYS'",
    ),
    (
        {"freq": "ASEX"},
        "the exchange calendar 'ASEX' is not available; use 'D', 'B' or another exchange code "
        "such as 'XNYS'",
    ),
]


@pytest.mark.parametrize(("fields", "message"), REFUSED)
def test_refused_with_a_clear_400_before_any_engine_runs(
    fields: dict[str, object], message: str
) -> None:
    engine = CountingEngine()
    with TestClient(create_app(settings(), engine=engine)) as client:
        resp = post(client, forecast_body(**fields))
        assert (resp.status_code, resp.json()) == (400, {"message": f"invalid input: {message}"})
        assert engine.calls == 0  # found in the shared checks, not by Prophet after a fit
        assert post(client, forecast_body()).status_code == 200


def test_duplicate_dates_that_are_not_all_equal_are_kept_as_prophet_keeps_them() -> None:
    req = parse_request({"ds": ["2020-01-06", "2020-01-06", "2020-01-07"], "y": [1, 2, 3]})
    assert list(req.ds) == [pd.Timestamp("2020-01-06")] * 2 + [pd.Timestamp("2020-01-07")]
    assert list(req.y) == [1, 2, 3]


def test_one_utc_offset_throughout_is_read_as_local_time() -> None:
    req = parse_request({"ds": ["2020-01-06T00:00+05:00", "2020-01-07T00:00+05:00"], "y": [1, 2]})
    assert list(req.ds) == [pd.Timestamp("2020-01-06"), pd.Timestamp("2020-01-07")]


def test_intraday_data_with_an_explicit_freq_is_forecast_in_those_steps() -> None:
    minutes = [f"2020-01-06 09:3{i}" for i in range(5)]
    req = parse_request({"ds": minutes, "y": [1, 2, 3, 4, 5], "periods": 2, "freq": "B"})
    assert list(req.future) == [pd.Timestamp("2020-01-07 09:34"), pd.Timestamp("2020-01-08 09:34")]


def test_plain_numeric_strings_and_exponents_are_still_numbers() -> None:
    req = parse_request({"ds": WEEK[:4], "y": ["762.2", " 3 ", "1e3", "-0.5"]})
    assert list(req.y) == [762.2, 3.0, 1000.0, -0.5]


def test_a_calendar_reaching_its_last_date_gives_what_it_has_when_that_is_enough() -> None:
    body = {"ds": ["2026-12-28", "2026-12-29"], "y": [1, 2], "freq": "XSHG", "periods": 2}
    req = parse_request(body)
    assert list(req.future) == [pd.Timestamp("2026-12-30"), pd.Timestamp("2026-12-31")]
    with pytest.raises(InvalidInput, match="has only 2 sessions ahead"):
        parse_request({**body, "periods": 3})


@pytest.mark.slow  # builds every exchange calendar: about half a second each
def test_every_calendar_code_accepted_works_or_is_refused_with_a_clear_400() -> None:
    """The whole list, with dates in 2020: sessions after the last date, or a 400 saying the
    calendar is not available (never a 500)."""
    refused = set()
    with TestClient(create_app(settings(model_cache_ttl=0))) as client:
        for code in sorted(calendars.calendar_names()):
            resp = post(client, forecast_body(freq=code))
            if resp.status_code == 400:
                message = resp.json()["message"]
                assert f"{code!r} is not available" in message or f"{code} calendar" in message
                refused.add(code)
                continue
            assert resp.status_code == 200, (code, resp.text)
            dates = pd.to_datetime(list(resp.json()["ds"].values()))
            assert len(dates) == 3 and dates.is_monotonic_increasing
            assert dates[0] > pd.Timestamp("2020-01-10") and dates[-1] < pd.Timestamp("2020-02-01")
    # What exchange-calendars cannot compute with this pandas, and XSAU (from 2021): if a new
    # release fixes one, this list shrinks and the README's model section should say so.
    assert refused == {"ASEX", "BVB", "TASE", "XBEL", "XBSE", "XCYS", "XSAU", "XTAE"}


def test_an_unexpected_error_is_logged_once_in_full_then_one_line_each(
    caplog: pytest.LogCaptureFixture,
) -> None:
    huge = RuntimeError("detail " + "x" * 30_000)
    app = create_app(settings(model_cache_ttl=0), engine=RaisingEngine(huge))
    with TestClient(app) as client:  # raise_server_exceptions: nothing is re-raised
        for _ in range(5):
            resp = post(client, forecast_body())
            assert resp.status_code == 500
            assert resp.json() == {"message": "internal error; the details are in the service log"}
        metrics = client.get("/metrics").text
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 5
    first, rest = errors[0].getMessage(), [r.getMessage() for r in errors[1:]]
    assert "RuntimeError: detail xxx" in first and "in run" in first  # the stack, once
    assert len(first) < 4_000
    assert all(len(line) < 500 and "\n" not in line for line in rest)
    assert rest[-1].endswith("(5 of this kind)")
    assert KEY not in caplog.text
    assert 'tickercast_model_http_requests_total{route="/",status="500"} 5.0' in metrics


def test_worker_header_only_when_a_setting_asks() -> None:
    with TestClient(create_app(settings())) as client:
        assert "x-worker" not in post(client, forecast_body()).headers
    with TestClient(create_app(settings(model_worker_header=True))) as client:
        assert ":" in post(client, forecast_body()).headers["x-worker"]


def test_405_says_which_methods_are_allowed() -> None:
    with TestClient(create_app(settings())) as client:
        resp = client.get("/")
        assert resp.status_code == 405 and resp.headers["allow"] == "POST"
        assert client.post("/healthz").headers["allow"] == "GET"


def test_metrics_are_documented_as_the_text_they_are() -> None:
    with TestClient(create_app(settings())) as client:
        spec = client.get("/openapi.json").json()
        served = client.get("/metrics").headers["content-type"]
    documented = spec["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    assert list(documented) == ["text/plain"] and served.startswith("text/plain")


def test_response_has_exactly_the_19_names_of_the_contract() -> None:
    """Written out here, not taken from the code's own constant."""
    names = [
        "ds",
        "yhat",
        "yhat_lower",
        "yhat_upper",
        "trend",
        "trend_lower",
        "trend_upper",
        "seasonal",
        "seasonal_lower",
        "seasonal_upper",
        "seasonalities",
        "seasonalities_lower",
        "seasonalities_upper",
        "weekly",
        "weekly_lower",
        "weekly_upper",
        "yearly",
        "yearly_lower",
        "yearly_upper",
    ]
    with TestClient(create_app(settings())) as client:
        data = post(client, forecast_body()).json()
        spec = client.get("/openapi.json").json()
    assert list(data) == names
    schema = spec["paths"]["/"]["post"]["responses"]["200"]["content"]["application/json"]
    assert schema["schema"]["required"] == names


def test_same_series_with_another_horizon_or_step_gets_its_own_answer_from_the_cache() -> None:
    """A cache key missing `periods` or `freq` would serve the first answer to all of these."""
    engine = CountingEngine()
    asks = [
        ({"periods": 3}, ["2020-01-13", "2020-01-14", "2020-01-15"]),
        ({"periods": 5}, ["2020-01-13", "2020-01-14", "2020-01-15", "2020-01-16", "2020-01-17"]),
        ({"periods": 3, "freq": "D"}, ["2020-01-11", "2020-01-12", "2020-01-13"]),
        ({"periods": 3, "freq": "XNYS"}, ["2020-01-13", "2020-01-14", "2020-01-15"]),
        ({"periods": 3, "freq": "B"}, ["2020-01-13", "2020-01-14", "2020-01-15"]),
    ]
    app = create_app(settings(), engine=engine, cache=bytes_lru())
    with TestClient(app) as client:
        for fields, dates in asks:
            data = post(client, forecast_body(**fields)).json()
            assert list(data["ds"].values()) == dates
            assert list(data["ds"]) == [str(5 + i) for i in range(len(dates))]
        days = post(client, forecast_body(periods=3, freq="D")).json()
        weekdays = post(client, forecast_body(periods=3, freq="B")).json()
    # Computed once per different question: `freq: "B"` is what the first ask inferred, and the
    # last two asks repeat earlier ones; those came from the cache.
    assert engine.calls == 4
    # The mock's straight line through 1..5 on Monday..Friday: one a day, 6 on Saturday.
    assert list(days["yhat"].values()) == pytest.approx([6, 7, 8])
    assert list(weekdays["yhat"].values()) == pytest.approx([8, 9, 10])


def test_the_seed_is_the_same_in_another_process() -> None:
    """Every worker and replica draws the same samples only if the seed depends on the request
    alone: computed in a fresh interpreter (another hash seed, another pid), it must match."""
    import os
    import subprocess
    import sys

    body = forecast_body()
    code = (
        "import sys, orjson; from tickercast.contract import parse_request; "
        "print(parse_request(orjson.loads(sys.stdin.buffer.read())).seed())"
    )
    seeds = {
        subprocess.run(
            [sys.executable, "-c", code],
            input=orjson.dumps(body),
            capture_output=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
        ).stdout.strip()
        for hash_seed in ("1", "2")
    }
    assert seeds == {str(parse_request(body).seed()).encode()}
    other = parse_request(forecast_body(periods=4)).seed()
    assert other != parse_request(body).seed()


@pytest.mark.slow
def test_prophet_fits_long_spans_and_duplicate_dates_and_refuses_one_repeated_date() -> None:
    """The rules above hold with the real engine: what the checks let through, Prophet fits."""
    real = ModelSettings(model_api_keys=KEY, model_cache_ttl=0)
    with TestClient(create_app(real)) as client:
        long_span = forecast_body(
            ds=["1750-01-01", "1800-01-01", "1900-01-01", "2000-01-01", "2038-06-01"],
            periods=5,
            freq="D",
        )
        resp = post(client, long_span)
        assert resp.status_code == 200, resp.text
        assert list(resp.json()["ds"].values())[-1] == "2038-06-06"
        duplicates = forecast_body(ds=["2020-01-06", "2020-01-06", *WEEK[1:4]], periods=2)
        resp = post(client, duplicates)
        assert resp.status_code == 200, resp.text
        assert list(resp.json()["ds"].values()) == ["2020-01-10", "2020-01-13"]
        resp = post(client, forecast_body(ds=["2020-01-01"] * 5))
        assert resp.status_code == 400
        assert "at least two different dates" in resp.json()["message"]


def test_periods_may_be_a_whole_float_as_json_schema_allows() -> None:
    assert parse_request({"ds": WEEK, "y": [1, 2, 3, 4, 5], "periods": 3.0}).periods == 3
    with pytest.raises(InvalidInput, match="periods must be a positive integer"):
        parse_request({"ds": WEEK, "y": [1, 2, 3, 4, 5], "periods": 3.5})
