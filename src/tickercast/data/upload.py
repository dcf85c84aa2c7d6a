"""A user's own prices from an uploaded CSV file: one date column and one value column.

Nothing is stored: the bytes are parsed into a `PriceHistory` and forgotten. Row numbers in
messages count the header as row 1, as a spreadsheet shows them.
"""

from __future__ import annotations

import csv
import io
import math
import re

import pandas as pd

from tickercast.data.base import PRICE_COLUMNS, PriceHistory
from tickercast.errors import InvalidInput, RequestTooLarge

DATE_NAMES = ("date", "ds", "timestamp", "time", "day")
# The first of these in the header is the value; adjusted prices first, as splits would
# otherwise show as crashes.
VALUE_NAMES = ("adj_close", "close", "value", "y", "price")
MISSING = frozenset({"", "null", "nan", "na", "n/a"})
FIRST_YEAR, LAST_YEAR = 1900, 2099  # the years a series may span to be forecast
ATTRIBUTION = "Prices: your uploaded file."

_Rows = list[tuple[int, list[str]]]  # (row number, cells)
# A date written with the day and the month as numbers before the year: 11/01/2024, 1.2.24.
_NUMERIC_DATE = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})\b(.*)")


def parse_upload(content: bytes, max_bytes: int, name: str = "upload") -> PriceHistory:
    """The file's dates and values; the value fills both `close` and `adj_close`."""
    if len(content) > max_bytes:
        raise RequestTooLarge(
            f"request too large: the file has {len(content):,} bytes; the most is {max_bytes:,}"
        )
    names, rows = _read_rows(content)
    header = [_normalize(cell) for cell in names]
    date_col = _date_column(header)
    value_col = _value_column(header, rows, date_col)
    dates = _dates(rows, date_col)
    values = _values(rows, value_col, names[value_col].strip())
    _check_unique(rows, dates)
    _check_years(rows, dates)
    with_value = sum(not math.isnan(v) for v in values)
    if with_value < 2:
        plural = "row" if with_value == 1 else "rows"
        raise InvalidInput(
            f"the file has {with_value} {plural} with a value; at least 2 are needed"
        )
    series = pd.Series(values, index=dates, dtype=float)
    frame = pd.DataFrame({c: float("nan") for c in PRICE_COLUMNS}, index=series.index)
    frame["close"] = series
    frame["adj_close"] = series
    return PriceHistory(name, "upload", frame.sort_index(), ATTRIBUTION)


def _read_rows(content: bytes) -> tuple[list[str], _Rows]:
    """The header's cells and the non-blank rows after it."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("the file is not UTF-8 text") from None
    first_line = text.lstrip().partition("\n")[0]
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    records: _Rows = []
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                records.append((reader.line_num, cells))
    except csv.Error as exc:
        raise InvalidInput(f"row {reader.line_num}: the file is not valid CSV ({exc})") from None
    if not records:
        raise InvalidInput("the file is empty")
    width = len(records[0][1])
    for row, cells in records:
        if len(cells) > width:  # e.g. decimal commas in a comma-separated file
            raise InvalidInput(f"row {row} has {len(cells)} cells but the header has {width}")
    return records[0][1], records[1:]


def _normalize(name: str) -> str:
    return "_".join(name.strip().lower().replace("-", " ").split())


def _date_column(header: list[str]) -> int:
    for name in DATE_NAMES:
        if name in header:
            return header.index(name)
    raise InvalidInput("no date column; name it date, ds or timestamp")


def _value_column(header: list[str], rows: _Rows, date_col: int) -> int:
    for name in VALUE_NAMES:
        if name in header:
            return header.index(name)
    others = [i for i in range(len(header)) if i != date_col]
    numeric = [i for i in others if _all_numbers(rows, i)]
    if len(numeric) == 1:
        return numeric[0]
    raise InvalidInput(
        "no value column; name it close, adj_close, value, y or price, "
        "or give exactly one numeric column"
    )


def _cell(cells: list[str], col: int) -> str:
    return cells[col].strip() if col < len(cells) else ""


def _number(text: str) -> float | None:
    """The number in `text`, NaN for a missing value, None for anything else."""
    if text.lower() in MISSING:
        return float("nan")
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _all_numbers(rows: _Rows, col: int) -> bool:
    return bool(rows) and all(_number(_cell(cells, col)) is not None for _, cells in rows)


def _dates(rows: _Rows, col: int) -> pd.DatetimeIndex:
    texts = [_cell(cells, col) for _, cells in rows]
    day_first = _day_first(rows, texts)
    iso = [_as_iso(text, day_first) for text in texts]
    parsed = pd.to_datetime(pd.Series(iso, dtype=object), format="mixed", errors="coerce", utc=True)
    unread = parsed.isna().to_numpy()
    if unread.any():
        at = int(unread.argmax())
        row, text = rows[at][0], texts[at]
        raise InvalidInput(
            f"row {row}: {text[:30]!r} is not a date" if text else f"row {row}: no date"
        )
    return pd.DatetimeIndex(parsed, name="date").tz_localize(None)


def _day_first(rows: _Rows, texts: list[str]) -> bool:
    """Whether dates like 11/01/2024 put the day first, decided from the whole column: a first
    number over 12 says day first, a second one over 12 says month first. A file that says both,
    or neither while some date reads two ways, is refused: no date is silently misread."""
    day_first_at = month_first_at = ambiguous_at = None
    for i, text in enumerate(texts):
        match = _NUMERIC_DATE.fullmatch(text)
        if match is None:
            continue
        first, second = int(match[1]), int(match[3])
        if first > 12 and day_first_at is None:
            day_first_at = i
        elif second > 12 and month_first_at is None:
            month_first_at = i
        elif first != second and first <= 12 and second <= 12 and ambiguous_at is None:
            ambiguous_at = i
    if day_first_at is not None and month_first_at is not None:
        raise InvalidInput(
            f"row {rows[day_first_at][0]}: {texts[day_first_at]!r} puts the day first but "
            f"row {rows[month_first_at][0]}: {texts[month_first_at]!r} puts the month first; "
            "write dates as YYYY-MM-DD"
        )
    if day_first_at is None and month_first_at is None and ambiguous_at is not None:
        text = texts[ambiguous_at]
        raise InvalidInput(
            f"row {rows[ambiguous_at][0]}: {text!r} could be day/month or month/day and no "
            "date in the file tells which; write dates as YYYY-MM-DD"
        )
    return day_first_at is not None


def _as_iso(text: str, day_first: bool) -> str:
    """A day/month/year or month/day/year date as YYYY-MM-DD (the rest of the cell kept)."""
    match = _NUMERIC_DATE.fullmatch(text)
    if match is None:
        return text
    first, second, year, rest = match[1], match[3], match[4], match[5]
    day, month = (first, second) if day_first else (second, first)
    if len(year) == 2:  # as strptime's %y: 69-99 are 1969-1999, 00-68 are 2000-2068
        year = ("19" if int(year) >= 69 else "20") + year
    return f"{year}-{int(month):02d}-{int(day):02d}{rest}"


def _values(rows: _Rows, col: int, name: str) -> list[float]:
    values = []
    for row, cells in rows:
        text = _cell(cells, col)
        value = _number(text)
        if value is None:
            raise InvalidInput(f"row {row}: {text[:30]!r} in column {name} is not a number")
        values.append(value)
    return values


def _check_years(rows: _Rows, dates: pd.DatetimeIndex) -> None:
    outside = (dates.year < FIRST_YEAR) | (dates.year > LAST_YEAR)
    if outside.any():
        at = int(outside.argmax())
        raise InvalidInput(
            f"row {rows[at][0]}: {dates[at]:%Y-%m-%d} is outside the years {FIRST_YEAR} to "
            f"{LAST_YEAR}"
        )


def _check_unique(rows: _Rows, dates: pd.DatetimeIndex) -> None:
    repeated = dates.duplicated(keep="first")
    if repeated.any():
        at = int(repeated.argmax())
        first = int((dates == dates[at]).argmax())
        raise InvalidInput(
            f"row {rows[at][0]}: the date {dates[at]:%Y-%m-%d} is also on row {rows[first][0]}"
        )
