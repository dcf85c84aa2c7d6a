"""A user's CSV: which files are read, and the exact sentence for each one that is not."""

from __future__ import annotations

import datetime as dt

import pytest

from tickercast.data.base import PRICE_COLUMNS
from tickercast.data.upload import parse_upload
from tickercast.errors import InvalidInput, RequestTooLarge

LIMIT = 10_000

# Real AAPL closes (Quandl WIKI) of the sessions 2013-02-26 .. 2013-03-01.
DATES = ["2013-02-26", "2013-02-27", "2013-02-28", "2013-03-01"]
CLOSES = [448.97, 444.57, 441.40, 430.47]


def csv(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def rows(template: str = "{d},{c}") -> list[str]:
    return [
        template.format(d=d, c=c, i=i) for i, (d, c) in enumerate(zip(DATES, CLOSES, strict=True))
    ]


GOOD = [
    pytest.param(csv("date,close", *rows()), id="date-close"),
    pytest.param(csv("ds,y", *rows()), id="prophet-names"),
    pytest.param(
        csv(
            "Date,Open,High,Low,Close,Adj Close,Volume",
            "2013-02-26,443.82,451.54,437.66,999,448.97,17910700",
            "2013-02-27,448.43,452.44,440.65,999,444.57,20976800",
            "2013-02-28,444.05,447.87,441.40,999,441.40,11518400",
            "2013-03-01,438.00,438.18,429.98,999,430.47,19730300",
        ),
        id="yahoo-adj-close-wins",
    ),
    pytest.param(csv("timestamp;price", *rows("{d};{c}")), id="semicolons"),
    pytest.param(csv("Timestamp\tValue", *rows("{d}\t{c}")), id="tabs"),
    pytest.param(csv("day,note,amount", *rows("{d},x{i},{c}")), id="single-numeric-column"),
    pytest.param(csv("date,close", *reversed(rows())), id="newest-first"),
    pytest.param(
        csv(
            "Date,Close",
            "02/26/2013,448.97",
            "02/27/2013,444.57",
            "Feb 28 2013,441.40",
            "2013-03-01T00:00:00,430.47",
        ),
        id="mixed-date-forms",
    ),
    pytest.param(
        b"\xef\xbb\xbf" + csv("date,close", "", *rows("{d}, {c} ")), id="bom-blank-spaces"
    ),
    pytest.param(csv("date,close,note", *rows()[:3], "2013-03-01,430.47,last"), id="short-rows"),
]


@pytest.mark.parametrize("content", GOOD)
def test_good_files(content):
    history = parse_upload(content, LIMIT, name="my-prices")
    frame = history.frame
    assert (history.ticker, history.provider) == ("my-prices", "upload")
    assert list(frame.columns) == list(PRICE_COLUMNS)
    assert [d.date() for d in frame.index] == [dt.date.fromisoformat(d) for d in DATES]
    assert frame["adj_close"].tolist() == CLOSES
    assert frame["close"].tolist() == CLOSES
    assert frame["open"].isna().all()


def test_missing_values_are_kept_as_nan():
    frame = parse_upload(
        csv("date,close", f"{DATES[0]},", f"{DATES[1]},null", *rows()[2:]), LIMIT
    ).frame
    assert frame["close"].isna().tolist() == [True, True, False, False]


BAD = [
    (b"", "invalid input: the file is empty"),
    (b"\xff\xfed\x00a\x00", "invalid input: the file is not UTF-8 text"),
    (
        csv("when,close", "2013-03-01,430.47"),
        "invalid input: no date column; name it date, ds or timestamp",
    ),
    (
        csv("date,open,close_price", "2013-02-28,444.05,441.40", "2013-03-01,438.00,430.47"),
        "invalid input: no value column; name it close, adj_close, value, y or price, "
        "or give exactly one numeric column",
    ),
    (
        csv("date,note", "2013-02-28,up", "2013-03-01,down"),
        "invalid input: no value column; name it close, adj_close, value, y or price, "
        "or give exactly one numeric column",
    ),
    (
        csv("date,close", "2013-02-27,444.57", "2013-02-30,441.40", "2013-03-01,430.47"),
        "invalid input: row 3: '2013-02-30' is not a date",
    ),
    (
        csv("date,close", "2013-02-28,441.40", ",430.47"),
        "invalid input: row 3: no date",
    ),
    (
        csv("date,close", "2013-02-28,441.40", "2013-03-01,430,47"),
        "invalid input: row 3 has 3 cells but the header has 2",
    ),
    (
        csv("date,close", "2013-02-27,444.57", "2013-02-28,$441.40", "2013-03-01,430.47"),
        "invalid input: row 3: '$441.40' in column close is not a number",
    ),
    (
        csv("Date,Adj Close", "2013-02-28,inf", "2013-03-01,430.47"),
        "invalid input: row 2: 'inf' in column Adj Close is not a number",
    ),
    (
        csv("date,close", "1899-12-29,1", "2013-03-01,430.47"),
        "invalid input: row 2: 1899-12-29 is outside the years 1900 to 2099",
    ),
    (csv("date,close"), "invalid input: the file has 0 rows with a value; at least 2 are needed"),
    (
        csv("date,close", "2013-02-28,", "2013-03-01,430.47"),
        "invalid input: the file has 1 row with a value; at least 2 are needed",
    ),
    (
        csv("date,close", "2013-02-28,441.40", "2013-03-01,430.47", "", "2013-02-28,441.40"),
        "invalid input: row 5: the date 2013-02-28 is also on row 2",
    ),
]


@pytest.mark.parametrize(("content", "message"), BAD)
def test_bad_files(content, message):
    with pytest.raises(InvalidInput) as caught:
        parse_upload(content, LIMIT)
    assert caught.value.message == message
    assert caught.value.status == 400


def test_too_large():
    content = csv("date,close", *[f"2013-03-01,{i}" for i in range(2_000)])
    with pytest.raises(RequestTooLarge) as caught:
        parse_upload(content, LIMIT)
    assert caught.value.message == (
        f"request too large: the file has {len(content):,} bytes; the most is 10,000"
    )
    assert caught.value.status == 413


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        # Day first: 13/01 can only be the 13th of January, so 11/01 is the 11th.
        (["11/01/2024", "12/01/2024", "13/01/2024"], ["2024-01-11", "2024-01-12", "2024-01-13"]),
        (["01/11/2024", "01/12/2024", "01/13/2024"], ["2024-01-11", "2024-01-12", "2024-01-13"]),
        (["13.01.24", "14.01.24"], ["2024-01-13", "2024-01-14"]),
        (["1-12-2023", "31-12-2023"], ["2023-12-01", "2023-12-31"]),
        (["05/05/2024", "2024-05-06", "05/13/2024"], ["2024-05-05", "2024-05-06", "2024-05-13"]),
        (
            ["03/03/2024 09:30", "03/04/2024 09:30", "03/25/2024 09:30"],
            ["2024-03-03", "2024-03-04", "2024-03-25"],
        ),
    ],
)
def test_day_or_month_first_is_read_from_the_whole_column(dates, expected):
    content = csv("date,close", *[f"{d},{100 + i}" for i, d in enumerate(dates)])
    frame = parse_upload(content, LIMIT).frame
    assert [f"{d:%Y-%m-%d}" for d in frame.index] == expected


@pytest.mark.parametrize(
    ("dates", "message"),
    [
        (
            ["01/02/2024", "01/03/2024", "01/04/2024"],
            "invalid input: row 2: '01/02/2024' could be day/month or month/day and no date "
            "in the file tells which; write dates as YYYY-MM-DD",
        ),
        (
            ["12/01/2024", "13/01/2024", "01/14/2024"],
            "invalid input: row 3: '13/01/2024' puts the day first but row 4: '01/14/2024' "
            "puts the month first; write dates as YYYY-MM-DD",
        ),
    ],
)
def test_dates_that_read_two_ways_are_refused_with_the_row(dates, message):
    content = csv("date,close", *[f"{d},{100 + i}" for i, d in enumerate(dates)])
    with pytest.raises(InvalidInput) as info:
        parse_upload(content, LIMIT)
    assert info.value.message == message
