"""Small helpers every provider shares: ticker checks, building, clipping and (de)serializing
price frames in the shape `base.PriceHistory` promises (`frame_payload` for orjson, and back)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from tickercast.data.base import PRICE_COLUMNS
from tickercast.errors import InvalidInput

# Letters, digits and the separators real symbols use (BRK.B, BF-B, RDS_A, SAP.DE, 7203.T);
# nothing that could change the path of a provider's URL.
# Yahoo's indices start with ^ (^GSPC) and its currencies end with =X (EURUSD=X).
_TICKER = re.compile(r"\^?[A-Z0-9][A-Z0-9._=-]{0,14}")


def normalize_ticker(ticker: str) -> str:
    """`" aapl "` -> `"AAPL"`; anything that is not a ticker symbol is `InvalidInput`."""
    symbol = ticker.strip().upper()
    if not _TICKER.fullmatch(symbol):
        raise InvalidInput(f"{ticker.strip()[:20]!r} is not a ticker symbol")
    return symbol


def make_frame(dates: Any, columns: Mapping[str, Sequence[Any] | np.ndarray]) -> pd.DataFrame:
    """A price frame: naive dates (time of day dropped), sorted and unique (the last row of a
    date wins), PRICE_COLUMNS as floats; a column not in `columns` is NaN."""
    index = pd.DatetimeIndex(pd.to_datetime(dates), name="date")
    if index.tz is not None:
        index = index.tz_localize(None)
    index = index.normalize().as_unit("ns")
    data = {
        name: pd.to_numeric(
            pd.Series(np.asarray(columns[name]), index=index), errors="coerce"
        ).astype(float)
        if name in columns
        else pd.Series(np.nan, index=index, dtype=float)
        for name in PRICE_COLUMNS
    }
    frame = pd.DataFrame(data, index=index)
    frame = frame[~frame.index.duplicated(keep="last")]
    return frame.sort_index()


def clip(frame: pd.DataFrame, start: dt.date | None, end: dt.date | None) -> pd.DataFrame:
    """The rows from `start` to `end`, both included; None leaves that side open."""
    if start is not None:
        frame = frame[frame.index >= pd.Timestamp(start)]
    if end is not None:
        frame = frame[frame.index <= pd.Timestamp(end)]
    return frame


def date_span(start: dt.date | None, end: dt.date | None) -> str:
    """`" from 2013-01-02 to 2013-03-01"`, `" from 2013-01-02"`, ...; `""` for no limits."""
    return (f" from {start}" if start else "") + (f" to {end}" if end else "")


def frame_payload(frame: pd.DataFrame) -> dict[str, Any]:
    """The frame as columns for orjson (OPT_SERIALIZE_NUMPY): dates as days since 1970-01-01."""
    days = frame.index.values.astype("datetime64[D]").astype(np.int64)
    return {"date": days, **{name: frame[name].to_numpy() for name in PRICE_COLUMNS}}


def frame_from_payload(payload: Mapping[str, Any]) -> pd.DataFrame:
    dates = np.asarray(payload["date"], dtype="datetime64[D]")
    columns = {name: np.asarray(payload[name], dtype=float) for name in PRICE_COLUMNS}
    return make_frame(dates, columns)
