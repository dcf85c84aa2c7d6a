"""Forecasts to store in the record's tests."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from tickercast.record.writes import ShownForecast, Step


def shown(
    ticker: str = "AAPL",
    as_of: str = "2013-01-02",
    horizon: int = 3,
    centre: float = 100.0,
    half: float = 2.0,
    kind: str = "live",
    method: str = "calibrated",
    last_price: float = 100.0,
    **fields: object,
) -> ShownForecast:
    """A forecast whose centre is `centre` at every step, band ± `half`, from `as_of`."""
    days = pd.bdate_range(pd.Timestamp(as_of) + pd.offsets.BDay(1), periods=horizon)
    steps = tuple(Step(d.date(), centre, centre - half, centre + half) for d in days)
    values: dict[str, object] = {
        "ticker": ticker,
        "source": "embedded",
        "kind": kind,
        "as_of": dt.date.fromisoformat(as_of),
        "method": method,
        "model_version": "fast/0.1.0",
        "interval_width": 0.8,
        "last_price": last_price,
        "steps": steps,
        "window": "1y",
        **fields,
    }
    return ShownForecast(**values)  # type: ignore[arg-type]
