"""Pure functions on price frames and forecast tables: windows, JSON-ready rows, CSV.

No web imports here: the routes turn these into responses.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tickercast import contract
from tickercast.contract import CALIBRATED, PROPHET, iso_dates, level_keys
from tickercast.errors import InvalidInput
from tickercast.quant.calendars import CALENDAR_FIRST_DATE
from tickercast.record.tables import LEVELS

# History windows a user may pick, in trading sessions (None: all of it).
WINDOWS: dict[str, int | None] = {
    "3m": 63,
    "6m": 126,
    "1y": 252,
    "2y": 504,
    "5y": 1260,
    "max": None,
}
WINDOW_LABELS = {
    "3m": "3 months",
    "6m": "6 months",
    "1y": "1 year",
    "2y": "2 years",
    "5y": "5 years",
    "max": "all",
}
DEFAULT_WINDOW = "2y"
# How much history a ticker page's chart shows (its range buttons: the windows and a month),
# and how much it opens on: the recent past beside the forecast.
VIEWS: dict[str, int | None] = {"1m": 21, **WINDOWS}
VIEW_LABELS = {"1m": "1 month", **WINDOW_LABELS}
DEFAULT_VIEW = "6m"
PAGE_HORIZON = 60  # steps a page forecasts unless told (the wire's backtests: 20)
MAX_HORIZON = 500
HORIZON_CHOICES = (5, 20, 60, 120, 250)
CHARTS = ("line", "candles")
# The model's forecasts a user may pick: the calibrated one (the page's default) or plain
# Prophet. The wire's names (contract.METHODS), the page's default first.
PAGE_METHOD = CALIBRATED  # what a page shows unless told (the wire's default: prophet)
METHODS = (PAGE_METHOD, *(m for m in contract.METHODS if m != PAGE_METHOD))
METHOD_LABELS = {CALIBRATED: "calibrated (recommended)", PROPHET: "plain Prophet"}
# The three bands a page draws (the fan) and words (the backtest's sentences).
PAGE_BANDS = (50, 80, 95)
FORECAST_COLUMNS = ("ds", "yhat", "yhat_lower", "yhat_upper", "trend", "weekly", "yearly")
# The central intervals (percent) every page forecast asks the model for: the COVID-19
# Forecast Hub's 23 quantiles with `yhat` as the median, the levels the track record keeps
# (its calibration needs them), the fan chart, the odds, the backtest and the download read.
PAGE_LEVELS: tuple[int, ...] = LEVELS
LEVEL_COLUMNS = tuple(key for level in PAGE_LEVELS for key in level_keys(level))


@dataclass(frozen=True)
class Choices:
    """Everything a user chose on a ticker page; all of it lives in the URL."""

    window: str = DEFAULT_WINDOW
    horizon: int = PAGE_HORIZON
    chart: str = "line"
    method: str = PAGE_METHOD

    @classmethod
    def parse(
        cls,
        window: str | None,
        horizon: str | int | None,
        chart: str | None,
        method: str | None = None,
        windows: Mapping[str, int | None] = WINDOWS,
    ) -> Choices:
        """`windows`: the ones allowed (a page's chart shows more than the API sends)."""
        window = window or DEFAULT_WINDOW
        if window not in windows:
            raise InvalidInput(f"window must be one of {', '.join(windows)}")
        return cls(
            window=window,
            horizon=parse_horizon(horizon),
            chart=parse_chart(chart),
            method=parse_method(method),
        )

    def query(self, **changes: Any) -> dict[str, str]:
        """The URL query of these choices, with `changes` applied."""
        values = {
            "window": self.window,
            "h": str(self.horizon),
            "chart": self.chart,
            "method": self.method,
        }
        values.update({k: str(v) for k, v in changes.items()})
        return values


def parse_horizon(value: str | int | None) -> int:
    if value is None or value == "":
        return PAGE_HORIZON
    try:
        horizon = int(value)
    except (TypeError, ValueError):
        raise InvalidInput("the horizon must be a whole number of trading days") from None
    if not 1 <= horizon <= MAX_HORIZON:
        raise InvalidInput(f"the horizon must be between 1 and {MAX_HORIZON} trading days")
    return horizon


def parse_chart(value: str | None) -> str:
    value = value or "line"
    if value not in CHARTS:
        raise InvalidInput(f"chart must be one of {', '.join(CHARTS)}")
    return value


def parse_method(value: object) -> str:
    if value is None or value == "":
        return PAGE_METHOD
    if value not in METHODS:
        raise InvalidInput(f"method must be one of {', '.join(METHODS)}")
    return str(value)


def adjusted(frame: pd.DataFrame) -> pd.DataFrame:
    """Prices adjusted for splits and dividends: open, high, low and close scaled by
    adj_close / close where both are known, so candles, line and forecast share one scale."""
    out = frame.copy()
    if "adj_close" not in frame:
        return out
    factor = np.array(frame["adj_close"] / frame["close"], dtype=float)
    factor[~np.isfinite(factor)] = 1.0
    for column in ("open", "high", "low"):
        if column in frame:
            out[column] = frame[column] * factor
    out["close"] = frame["adj_close"].fillna(frame["close"])
    return out


def in_window(frame: pd.DataFrame, window: str) -> pd.DataFrame:
    """The last sessions of `frame` that the window covers."""
    rows = WINDOWS[window]
    return frame if rows is None else frame.iloc[-rows:]


def usable(frame: pd.DataFrame, column: str = "close") -> pd.Series:
    """The column without missing values: what the model is given."""
    series = frame[column].astype(float)
    return series[np.isfinite(series.to_numpy())]


def _floats(values: Any) -> list[float | None]:
    floats = np.asarray(values, float).tolist()  # Python floats: far quicker than numpy's
    return [round(v, 6) if math.isfinite(v) else None for v in floats]


def chart_history(frame: pd.DataFrame) -> dict[str, Any]:
    """Columns for the price chart: dates and OHLC (None where missing)."""
    out: dict[str, Any] = {"ds": iso_dates(pd.DatetimeIndex(frame.index))}
    for column in ("open", "high", "low", "close"):
        out[column] = _floats(frame[column]) if column in frame else [None] * len(frame)
    out["has_ohlc"] = all(
        column in frame and bool(frame[column].notna().any()) for column in ("open", "high", "low")
    )
    return out


def history_rows(series: pd.Series, dates: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """The series as records; `dates`: its index as ISO strings, when already made."""
    dates = dates if dates is not None else iso_dates(pd.DatetimeIndex(series.index))
    return [{"ds": d, "close": v} for d, v in zip(dates, _floats(series.to_numpy()), strict=True)]


def answer_rows(
    answer: Mapping[str, Mapping[str, Any]], columns: Sequence[str] = FORECAST_COLUMNS
) -> list[dict[str, Any]]:
    """A model answer as it came over the wire as JSON-ready records (`columns`, values rounded
    to 6 decimals, None where not finite): rows in label order, `ds` as the model sent it (ISO
    strings)."""
    labels = sorted(answer["ds"], key=int)
    values = [c for c in columns if c != "ds"]
    return [
        {"ds": answer["ds"][label], **{c: _rounded(answer[c][label]) for c in values}}
        for label in labels
    ]


def _rounded(value: Any) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), 6)


def forecast_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str] = FORECAST_COLUMNS) -> str:
    buffer = io.StringIO()
    buffer.write(",".join(columns) + "\n")
    for row in rows:
        buffer.write(",".join("" if row[c] is None else str(row[c]) for c in columns) + "\n")
    return buffer.getvalue()


def first_value(series: pd.Series) -> float | None:
    """The series' first usable value: what `normalised` scales to 100."""
    clean = series.dropna()
    return None if clean.empty or clean.iloc[0] == 0 else float(clean.iloc[0])


def normalised(series: pd.Series) -> pd.Series:
    """The series scaled to 100 at its first usable value."""
    first = first_value(series)
    return series * math.nan if first is None else series / first * 100.0


def guess_freq(dates: pd.DatetimeIndex) -> str | None:
    """Trading sessions ("XNYS") for a weekday-only series that ends where the calendar has
    sessions; else let the model infer ("D")."""
    if len(dates) and dates.max() < CALENDAR_FIRST_DATE:
        return None
    return "XNYS" if bool((dates.day_of_week < 5).all()) else None
