"""The chance that a price ends higher than today's, read off a forecast's quantiles. Pure.

The rule: the probability of ending below a price is found by linear interpolation in log
price between the two adjacent quantiles around it (the forecast's centre, yhat, is the
median, level 0.5); below the lowest quantile it is that quantile's level, above the highest
that quantile's level (the forecast says nothing finer out there). The chance of ending higher
is one minus the chance of ending below today's price.

A band of width w (0.8 for an 80% band) gives two quantiles: its lower edge at (1 - w) / 2, its
upper edge at (1 + w) / 2; a forecast with only its band gives three with yhat, one that
states more levels (`yhat_lower_L`, `yhat_upper_L`) gives two more for each.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

LEVEL_KEY = re.compile(r"yhat_lower_(\d+)")  # a band the answer states at a level in percent


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
    """A forecast row's quantiles: its centre (the median), its band (`yhat_lower`,
    `yhat_upper`, of `interval_width`) and every band it states at a level in percent
    (`yhat_lower_L`, `yhat_upper_L`, as the model answers `levels`)."""
    bands = {round(interval_width, 6): (row.get("yhat_lower"), row.get("yhat_upper"))}
    for key in row:
        found = LEVEL_KEY.fullmatch(key)
        if found:
            level = found.group(1)
            bands[round(int(level) / 100, 6)] = (row[key], row.get(f"yhat_upper_{level}"))
    quantiles = {0.5: row.get("yhat")}
    for width, (lower, upper) in bands.items():
        quantiles[round((1 - width) / 2, 6)] = lower
        quantiles[round((1 + width) / 2, 6)] = upper
    return {level: value for level, value in quantiles.items() if value is not None}


def chance_higher(last: float, row: Mapping[str, Any], interval_width: float) -> float | None:
    """The chance the price at `row` (a forecast step) is above `last` (today's price)."""
    below = chance_below(last, band_quantiles(row, interval_width))
    return None if below is None else round(1.0 - below, 4)
