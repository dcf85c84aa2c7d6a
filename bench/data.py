"""Real daily prices cut into request windows, and a generator of windows never used twice."""

from __future__ import annotations

import functools
import json
import random
from dataclasses import dataclass

import pandas as pd

TICKER = "AAPL"


@dataclass(frozen=True)
class Series:
    """One ticker's adjusted closes as the strings a real client sends."""

    ticker: str
    ds: list[str]
    y: list[str]

    def __len__(self) -> int:
        return len(self.ds)

    def window(self, start: int, rows: int) -> tuple[list[str], list[str]]:
        if start < 0 or start + rows > len(self):
            raise ValueError(f"window [{start}, {start + rows}) outside {len(self)} rows")
        return self.ds[start : start + rows], self.y[start : start + rows]

    def frame(self, start: int, rows: int) -> pd.DataFrame:
        ds, y = self.window(start, rows)
        return pd.DataFrame({"ds": pd.to_datetime(ds), "y": [float(v) for v in y]})


@functools.cache
def load_series(ticker: str = TICKER) -> Series:
    from bokeh_sampledata.stocks import data

    rows = data[data["ticker"] == ticker].sort_values("date")
    ds = [stamp.strftime("%Y-%m-%d") for stamp in rows["date"]]
    y = [f"{value:.6f}" for value in rows["adj_close"]]
    return Series(ticker, ds, y)


def request_body(
    series: Series, start: int, rows: int, key: str | None, periods: int = 100
) -> bytes:
    """The JSON a client posts, without a Content-Type, like the original client."""
    ds, y = series.window(start, rows)
    body: dict[str, object] = {"ds": ds, "y": y, "periods": periods}
    if key is not None:
        body["key"] = key
    return json.dumps(body).encode()


class Windows:
    """Hands out window starts so that no (start, rows) pair is ever requested twice.

    Starts come in a fixed shuffled order, so consecutive requests are not one-day shifts of
    each other. A next-day request uses rows + 1 and so never collides with a window of `rows`.
    """

    def __init__(self, series: Series, seed: int = 20261128) -> None:
        self.series = series
        self.seed = seed
        self._free: dict[int, list[int]] = {}

    def take(self, rows: int, count: int, extra: int = 1) -> list[int]:
        """`count` fresh starts for windows of `rows` rows that can grow by `extra` rows."""
        if rows not in self._free:
            starts = list(range(len(self.series) - rows - extra + 1))
            random.Random(self.seed + rows).shuffle(starts)
            self._free[rows] = starts
        free = self._free[rows]
        if len(free) < count:
            raise RuntimeError(f"only {len(free)} fresh windows of {rows} rows are left")
        taken, self._free[rows] = free[:count], free[count:]
        return taken
