"""The mock engine: the contract's shapes from a cheap deterministic forecast, without Prophet.

A straight line fitted by least squares to the history, with a band that widens with the square
root of the horizon; each level asked gets the same band at its own width (nested: the normal
quantile grows with the level). It answers in milliseconds and is the same for the same request.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd

from tickercast.contract import ForecastRequest, level_keys

_DAY_NS = 86_400 * 10**9


def _days(ds: pd.DatetimeIndex, origin: int) -> np.ndarray:
    return (ds.as_unit("ns").asi8 - origin) / _DAY_NS


def forecast(req: ForecastRequest) -> dict[str, np.ndarray]:
    """The contract's value columns at the request's dates."""
    origin = int(req.ds.as_unit("ns").asi8.min())
    seen = ~np.isnan(req.y)
    t, y = _days(req.ds, origin)[seen], req.y[seen]
    slope, intercept = np.polyfit(t, y, 1) if np.ptp(t) > 0 else (0.0, float(np.mean(y)))
    sigma = float(np.std(y - (intercept + slope * t))) if len(y) > 2 else 0.0
    dates = req.dates
    when = _days(dates, origin)
    yhat = intercept + slope * when
    horizon = np.maximum(when - t.max(), 0.0)
    root = np.sqrt(1.0 + horizon / max(len(y), 1))
    half = _z(req.interval_width) * sigma * root
    zeros = np.zeros(len(dates))
    columns = {
        "yhat": yhat,
        "yhat_lower": yhat - half,
        "yhat_upper": yhat + half,
        "trend": yhat,
        "trend_lower": yhat,
        "trend_upper": yhat,
    }
    for name in ("seasonal", "seasonalities", "weekly", "yearly"):
        for suffix in ("", "_lower", "_upper"):
            columns[name + suffix] = zeros
    for level in req.levels:
        lower_key, upper_key = level_keys(level)
        columns[lower_key] = yhat - _z(level / 100) * sigma * root
        columns[upper_key] = yhat + _z(level / 100) * sigma * root
    return columns


def _z(width: float) -> float:
    # From the lower tail: 0.5 + width / 2 rounds to 1 for widths just under 1.
    return -NormalDist().inv_cdf((1 - width) / 2)
