"""A forecast as the ticker page and `GET /api/forecast/{ticker}` show it, as the track record
keeps it: made from the API's own answer (its rows as shown), the date and price it starts
from, and the model version that made it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pandas as pd

from tickercast.record.writes import ShownForecast, Step
from tickercast.web.model_client import ModelAnswer


def shown_forecast(
    data: Mapping[str, Any],
    as_of: pd.Timestamp,
    last_price: float,
    answer: ModelAnswer,
    kind: str = "live",
) -> ShownForecast:
    """`data`: the API's answer (ticker, source, window, method, interval_width, forecast)."""
    steps = tuple(
        Step(
            dt.date.fromisoformat(row["ds"][:10]), row["yhat"], row["yhat_lower"], row["yhat_upper"]
        )
        for row in data["forecast"]
    )
    return ShownForecast(
        ticker=data["ticker"],
        source=data["source"],
        kind=kind,
        as_of=pd.Timestamp(as_of).date(),
        method=data["method"],
        model_version=answer.version,
        interval_width=data["interval_width"],
        last_price=last_price,
        steps=steps,
        window=data.get("window"),
    )
