"""Price frames and forecast tables as the tests compare them: a frame through compact JSON and
back (the price book's stored shape), and a forecast table as the web API's rows."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import orjson
import pandas as pd

from tickercast.contract import iso_dates
from tickercast.data.frames import frame_from_payload, frame_payload
from tickercast.web.series import FORECAST_COLUMNS


def dumps_frame(frame: pd.DataFrame) -> bytes:
    """Compact JSON of columns: dates as days since 1970-01-01, NaN as null."""
    return orjson.dumps(frame_payload(frame), option=orjson.OPT_SERIALIZE_NUMPY)


def loads_frame(raw: bytes) -> pd.DataFrame:
    return frame_from_payload(orjson.loads(raw))


def forecast_rows(forecast: pd.DataFrame, columns: Sequence[str] = FORECAST_COLUMNS) -> list[dict]:
    """The forecast table as JSON-ready records (six digits, None where not finite), dates as
    ISO strings: what `answer_rows` makes of the same answer without a table between."""
    dates = iso_dates(pd.DatetimeIndex(forecast["ds"]))
    values = {c: np.asarray(forecast[c], float).tolist() for c in columns if c != "ds"}
    return [
        {"ds": d, **{c: round(v[i], 6) if math.isfinite(v[i]) else None for c, v in values.items()}}
        for i, d in enumerate(dates)
    ]
