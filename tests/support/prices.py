"""Real daily prices from the embedded data set, as the original clients would send them."""

from __future__ import annotations

import functools

import pandas as pd


@functools.cache
def _stocks() -> pd.DataFrame:
    from bokeh_sampledata.stocks import data

    return data


def adj_close(ticker: str, rows: int) -> pd.DataFrame:
    """The last `rows` sessions of `ticker`: columns ds (Timestamp) and y (float)."""
    d = _stocks()
    d = d[d["ticker"] == ticker].sort_values("date").tail(rows)
    return pd.DataFrame({"ds": pd.to_datetime(d["date"]), "y": d["adj_close"].astype(float)})


def request_body(ticker: str, rows: int, key: str, **extra: object) -> dict[str, object]:
    """A request as the original clients build it: dates as str(datetime), prices as strings."""
    frame = adj_close(ticker, rows)
    return {
        "key": key,
        "ds": [str(ts.to_pydatetime()) for ts in frame["ds"]],
        "y": [str(v) for v in frame["y"]],
        **extra,
    }
