"""A forecast as the ticker page and `GET /api/forecast/{ticker}` show it, as the track record
keeps it: made from the API's own answer (its rows as shown, with the quantiles at the record's
levels when the answer has them), the date and price it starts from, and the model version that
made it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pandas as pd

from tickercast.record.tables import LEVELS
from tickercast.record.writes import ShownForecast, Step
from tickercast.web.model_client import ModelAnswer


def levels_of(row: Mapping[str, Any]) -> tuple[tuple[int, float, float], ...]:
    """The quantiles a row of the answer has at the record's levels (`yhat_lower_L` and
    `yhat_upper_L`), as (level, lower, upper); none when the answer was made without them."""
    found = []
    for level in LEVELS:
        lower, upper = row.get(f"yhat_lower_{level}"), row.get(f"yhat_upper_{level}")
        if lower is not None and upper is not None:
            found.append((level, float(lower), float(upper)))
    return tuple(found)


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
            dt.date.fromisoformat(row["ds"][:10]),
            row["yhat"],
            row["yhat_lower"],
            row["yhat_upper"],
            levels_of(row),
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
