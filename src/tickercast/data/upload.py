"""A user's own prices from an uploaded CSV file: one date column and one value column.

Nothing is stored: the bytes are parsed into a `PriceHistory` and forgotten. Row numbers in
messages count the header as row 1, as a spreadsheet shows them.
"""

from __future__ import annotations

import csv
import io
import math

import pandas as pd

from tickercast.data.base import PRICE_COLUMNS, PriceHistory
from tickercast.errors import InvalidInput, RequestTooLarge

DATE_NAMES = ("date", "ds", "timestamp", "time", "day")
# The first of these in the header is the value; adjusted prices first, as splits would
# otherwise show as crashes.
VALUE_NAMES = ("adj_close", "close", "value", "y", "price")
MISSING = frozenset({"", "null", "nan", "na", "n/a"})
ATTRIBUTION = "Prices: your uploaded file."

_Rows = list[tuple[int, list[str]]]  # (row number, cells)


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
    parsed = pd.to_datetime(
        pd.Series(texts, dtype=object), format="mixed", errors="coerce", utc=True
    )
    unread = parsed.isna().to_numpy()
    if unread.any():
        at = int(unread.argmax())
        row, text = rows[at][0], texts[at]
        raise InvalidInput(
            f"row {row}: {text[:30]!r} is not a date" if text else f"row {row}: no date"
        )
    return pd.DatetimeIndex(parsed, name="date").tz_localize(None)


def _values(rows: _Rows, col: int, name: str) -> list[float]:
    values = []
    for row, cells in rows:
        text = _cell(cells, col)
        value = _number(text)
        if value is None:
            raise InvalidInput(f"row {row}: {text[:30]!r} in column {name} is not a number")
        values.append(value)
    return values


def _check_unique(rows: _Rows, dates: pd.DatetimeIndex) -> None:
    repeated = dates.duplicated(keep="first")
    if repeated.any():
        at = int(repeated.argmax())
        first = int((dates == dates[at]).argmax())
        raise InvalidInput(
            f"row {rows[at][0]}: the date {dates[at]:%Y-%m-%d} is also on row {rows[first][0]}"
        )
