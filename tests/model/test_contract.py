"""Parsing and checking a request: every rule of docs/contract.md, case by case."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.answers import response_frame
from tickercast import contract
from tickercast.contract import (
    Limits,
    check_key,
    encode_response,
    iso_dates,
    parse_body,
    parse_request,
)
from tickercast.errors import InvalidFormat, InvalidInput, InvalidKey, NoKey

DS = ["2018-03-12", "2018-03-13", "2018-03-14"]


def body(**fields: object) -> dict[str, object]:
    return {"ds": DS, "y": [1.0, 2.0, 3.0], "periods": 5, **fields}


@pytest.mark.parametrize("raw", [b"", b"not json", b"[1, 2]", b'"text"', b"42", b"{'a': 1}"])
def test_body_that_is_not_a_json_object(raw: bytes) -> None:
    with pytest.raises(InvalidFormat, match="invalid data format"):
        parse_body(raw)


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        ({}, NoKey, "no key submitted"),
        ({"key": None}, NoKey, "no key submitted"),
        ({"key": "wrong"}, InvalidKey, "invalid key"),
        ({"key": 123}, InvalidKey, "invalid key"),
        ({"key": ""}, InvalidKey, "invalid key"),
        ({"key": "one-key "}, InvalidKey, "invalid key"),
    ],
)
def test_keys_refused(data: dict[str, object], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        check_key(data, [b"one-key", b"other-key"])


@pytest.mark.parametrize("key", ["one-key", "other-key"])
def test_every_listed_key_is_accepted(key: str) -> None:
    check_key({"key": key}, [b"one-key", b"other-key"])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"y": [1, 2]}, "invalid input: ds is missing"),
        ({"ds": DS}, "invalid input: y is missing"),
        ({"ds": "2018-03-12", "y": [1]}, "invalid input: ds must be a list"),
        ({"ds": DS, "y": {"a": 1}}, "invalid input: y must be a list"),
        ({"ds": DS, "y": [1, 2]}, "invalid input: ds has 3 values but y has 2"),
        ({"ds": ["2018-03-12", "yesterday", "x"], "y": [1, 2, 3]}, "ds[1] is not a date"),
        ({"ds": ["2018-03-12", 20180313, "2018-03-14"], "y": [1, 2, 3]}, "ds[1] is not a date"),
        ({"ds": ["2018-03-12", "NaT", "x"], "y": [1, 2, 3]}, "ds[1] is not a date: 'NaT'"),
        ({"ds": ["2018-03-12", "", "x"], "y": [1, 2, 3]}, "ds[1] is not a date: ''"),
        ({"ds": ["2018-03-12", "now", "x"], "y": [1, 2, 3]}, "ds[1] is not a date: 'now'"),
        ({"ds": ["2018-03-12", "1492-10-12"], "y": [1, 2]}, "ds[1] is outside the years 1700"),
        (
            {"ds": ["2198-03-12", "2199-12-25"], "y": [1, 2], "periods": 9},
            "the forecast would run past 2199",
        ),
        (body(y=[1, "abc", 3]), "invalid input: y[1] is not a number"),
        (body(y=[1, 2, True]), "invalid input: y[2] is not a number"),
        (body(y=[1, [2], 3]), "invalid input: y[1] is not a number"),
        (body(y=[1, "inf", 3]), "invalid input: y[1] is not a finite number"),
        (body(y=[None, None, 3]), "fewer than 2 usable rows"),
        ({"ds": [], "y": []}, "fewer than 2 usable rows"),
        (body(periods=0), "periods must be a positive integer"),
        (body(periods=-3), "periods must be a positive integer"),
        (body(periods=2.5), "periods must be a positive integer"),
        (body(periods="10"), "periods must be a positive integer"),
        (body(periods=True), "periods must be a positive integer"),
        (body(periods=11), "periods must be at most 10"),
        (body(freq="fortnightly"), "unknown freq 'fortnightly'"),
        (body(freq=5), "unknown freq 5"),
        (body(include_history="yes"), "include_history must be true or false"),
        (body(interval_width=1), "interval_width must be a number between 0 and 1"),
        (body(interval_width=0), "interval_width must be a number between 0 and 1"),
        (body(interval_width="0.9"), "interval_width must be a number between 0 and 1"),
        ({"ds": DS * 4, "y": [1] * 12}, "12 rows is over the limit of 10"),
    ],
)
def test_invalid_input(data: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_request(data, Limits(max_rows=10, max_periods=10))
    assert message in caught.value.message
    assert caught.value.message.startswith("invalid input: ")


def test_what_real_clients_send_is_read() -> None:
    data = {
        "ds": ["2026-11-28 05:51:44.123456", "2026-11-29 05:51:44.123456", "2026-11-30"],
        "y": ["762.2", None, 3],
        "periods": 2,
    }
    req = parse_request(data)
    assert list(req.ds) == [
        pd.Timestamp("2026-11-28 05:51:44.123456"),
        pd.Timestamp("2026-11-29 05:51:44.123456"),
        pd.Timestamp("2026-11-30"),
    ]
    assert req.y[0] == 762.2 and math.isnan(req.y[1]) and req.y[2] == 3.0
    assert req.freq == "D"  # there are weekend dates
    assert (req.periods, req.include_history, req.interval_width) == (2, False, 0.8)


def test_mixed_date_formats_are_parsed_one_by_one() -> None:
    req = parse_request({"ds": ["2018-03-12", "March 13, 2018", "2018/03/14"], "y": [1, 2, 3]})
    assert list(req.ds) == list(pd.date_range("2018-03-12", periods=3))


def test_weekday_series_infers_weekday_steps_and_unknown_fields_are_ignored() -> None:
    req = parse_request(body(extra_field="ignored"))
    assert req.freq == "B"


def test_exchange_calendar_code_is_accepted() -> None:
    assert parse_request(body(freq="XNYS")).freq == "XNYS"


def test_digest_depends_on_every_input_but_the_key() -> None:
    base = parse_request(body())
    assert parse_request({**body(), "key": "anything"}).digest() == base.digest()
    variants = [
        body(periods=7),
        body(freq="D"),
        body(include_history=True),
        body(interval_width=0.9),
        body(y=[1.0, 2.0, 3.5]),
        {"ds": ["2018-03-12", "2018-03-13", "2018-03-15"], "y": [1.0, 2.0, 3.0]},
    ]
    digests = {parse_request(v).digest() for v in variants}
    assert base.digest() not in digests and len(digests) == len(variants)


def test_iso_dates() -> None:
    assert iso_dates(pd.DatetimeIndex(["2018-03-14", "2018-03-15"])) == ["2018-03-14", "2018-03-15"]
    assert iso_dates(pd.DatetimeIndex(["2018-03-14", "2018-03-15 05:51:44"])) == [
        "2018-03-14T00:00:00",
        "2018-03-15T05:51:44",
    ]


def test_response_round_trips_through_pandas() -> None:
    ds = pd.DatetimeIndex(["2018-03-14", "2018-03-15"])
    columns = {key: np.array([1.5, 2.5]) for key in ("yhat", "yhat_lower", "yhat_upper")}
    from tickercast.contract import VALUE_KEYS

    columns |= {key: np.zeros(2) for key in VALUE_KEYS if key not in columns}
    frame = response_frame(__import__("orjson").loads(encode_response(ds, columns, 10)))
    assert list(frame.index) == [10, 11]
    assert list(frame["ds"]) == list(ds)
    assert list(frame["yhat"]) == [1.5, 2.5]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.dates(min_value=dt.date(1500, 1, 1), max_value=dt.date(2400, 12, 31)),
        min_size=1,
        max_size=40,
    )
)
def test_plain_days_read_at_once_equal_the_full_reading(days: list[dt.date]) -> None:
    raw = [day.isoformat() for day in days]
    fast = contract._plain_days(raw)
    first, last = contract.FIRST_DATE.date(), contract.LAST_DATE.date()
    if all(first <= day <= last for day in days):
        full = pd.DatetimeIndex(pd.to_datetime(raw, format="ISO8601")).as_unit("ns")
        assert fast is not None
        assert fast.equals(full) and fast.dtype == full.dtype and fast.freq == full.freq
    else:
        assert fast is None  # the full reading names the date outside the years


@pytest.mark.parametrize(
    "raw",
    [
        ["2023-02-30", "2023-03-01"],
        ["2023-01-01", "2023-1-02"],
        ["2023-01-01 ", "2023-01-02"],
        ["2023-01-01", 20230102],
        ["2023-01-01", "2023-01-02T00:00"],
        ["２０２３-01-01", "2023-01-02"],
    ],
)
def test_anything_but_plain_days_takes_the_full_reading(raw: list[object]) -> None:
    assert contract._plain_days(raw) is None
