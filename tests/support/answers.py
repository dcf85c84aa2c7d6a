"""A model answer read back the long way, as a table, for tests to compare with what the code
reads from it directly."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from tickercast.contract import iso_dates
from tickercast.web.series import FORECAST_COLUMNS


def response_frame(response: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """A response back as a table, rows in label order and `ds` as timestamps."""
    frame = pd.DataFrame(response)
    frame.index = frame.index.astype(int)
    frame = frame.sort_index()
    frame["ds"] = pd.to_datetime(frame["ds"], format="ISO8601")
    return frame


def forecast_rows(
    forecast: pd.DataFrame, columns: Sequence[str] = FORECAST_COLUMNS
) -> list[dict[str, Any]]:
    """A forecast table as JSON-ready records, dates as ISO strings, values rounded to 6
    decimals and None where not finite."""
    dates = iso_dates(pd.DatetimeIndex(forecast["ds"]))
    values = {c: _floats(forecast[c]) for c in columns if c != "ds"}
    return [{"ds": d, **{c: values[c][i] for c in values}} for i, d in enumerate(dates)]


def _floats(values: Any) -> list[float | None]:
    floats = np.asarray(values, float).tolist()
    return [round(v, 6) if math.isfinite(v) else None for v in floats]
