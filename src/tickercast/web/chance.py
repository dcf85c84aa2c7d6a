"""The chance that a price ends higher than today's, read off a forecast's quantiles. Pure.

The rule: the probability of ending below a price is found by linear interpolation in log
price between the two adjacent quantiles around it (the forecast's centre, yhat, is the
median, level 0.5); below the lowest quantile it is that quantile's level, above the highest
that quantile's level (the forecast says nothing finer out there). The chance of ending higher
is one minus the chance of ending below today's price.

A forecast that states its levels gives them as `{level: price}`; one that gives only its
band gives three: the band's lower edge at (1 - width) / 2, yhat at 0.5, the upper edge at
(1 + width) / 2.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


def chance_below(price: float, quantiles: Mapping[float, float]) -> float | None:
    """P(ending below `price`) from `quantiles` ({level: price}, levels in (0, 1)); None when
    the price or a quantile is not positive (no log), or there are none."""
    points = sorted(
        (float(v), float(level))
        for level, v in quantiles.items()
        if v is not None and math.isfinite(v)
    )
    if not points or not price > 0 or points[0][0] <= 0:
        return None
    x = math.log(price)
    logs = [(math.log(v), level) for v, level in points]
    if x <= logs[0][0]:
        return logs[0][1]
    if x >= logs[-1][0]:
        return logs[-1][1]
    for (x0, p0), (x1, p1) in zip(logs, logs[1:], strict=False):
        if x0 <= x <= x1:
            return p0 if x1 == x0 else p0 + (p1 - p0) * (x - x0) / (x1 - x0)
    return None  # unreachable: x lies between the first and the last


def band_quantiles(row: Mapping[str, Any], interval_width: float) -> dict[float, float]:
    """A forecast row's quantiles from its band and centre (the levels it states, when it
    has them under `levels` as {level: price})."""
    stated = row.get("levels")
    if isinstance(stated, Mapping) and stated:
        return {float(level): value for level, value in stated.items()}
    tail = (1.0 - interval_width) / 2
    return {tail: row["yhat_lower"], 0.5: row["yhat"], 1.0 - tail: row["yhat_upper"]}


def chance_higher(last: float, row: Mapping[str, Any], interval_width: float) -> float | None:
    """The chance the price at `row` (a forecast step) is above `last` (today's price)."""
    below = chance_below(last, band_quantiles(row, interval_width))
    return None if below is None else round(1.0 - below, 4)
