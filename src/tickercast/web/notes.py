"""Sentences that keep the ticker page honest about what it shows: which components mean
something for this series, where a forecast does not start from today's price or has a band it
cannot measure, and how wide today's band is against the usual one. Pure functions on the
history and the forecast rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from tickercast.quant import volatility

YEARLY_MIN_DAYS = 730  # Prophet fits a yearly cycle from two years of history on
COMPONENTS = ("trend", "weekly", "yearly")
# A band narrower than this share of the last price all the way out has not been measured.
NO_WIDTH = 1e-3
# Today's typical move is the calibrated band's volatility, which follows recent moves with the
# band's own decay (`volatility.BAND_DECAY`); "usual" is its median over the history, after the
# first `SETTLING` sessions, where it still leans on its starting value.
SETTLING = 60
# Today's typical move over the usual one at or beyond which the band reads wider, or narrower,
# than usual (a ratio of volatilities, not a band's interval width).
WIDER_RATIO, NARROWER_RATIO = 1.25, 0.8


def trading_days(dates: pd.DatetimeIndex, freq: str | None) -> bool:
    """Exchange sessions or weekdays only: no weekends to compare a weekday with."""
    return freq not in (None, "D") or bool((dates.day_of_week < 5).all())


def components(
    dates: pd.DatetimeIndex, freq: str | None, rows: Sequence[dict[str, Any]], unit: str
) -> dict[str, Any]:
    """The components worth drawing, and a sentence for each one left out."""
    hidden: dict[str, str] = {}
    if trading_days(dates, freq):
        most = _largest(rows, "weekly")
        size = f" (here it moves the forecast by at most {most:.2f} {unit})" if most else ""
        hidden["weekly"] = (
            "No weekly cycle: on trading-day prices a day-of-week effect is noise, not a "
            f"cycle{size}."
        )
    span = (dates.max() - dates.min()).days if len(dates) else 0
    if span < YEARLY_MIN_DAYS:
        hidden["yearly"] = (
            f"No yearly cycle: it takes two years of history to see one; this has {span} days."
        )
    shown = [c for c in COMPONENTS if c not in hidden]
    return {"shown": shown, "hidden": hidden, "unit": unit}


def _largest(rows: Sequence[dict[str, Any]], key: str) -> float:
    values = [abs(r[key]) for r in rows if r.get(key) is not None]
    return max(values, default=0.0)


def forecast_notes(
    last_close: float, rows: Sequence[dict[str, Any]], n: int, step: str = "trading day"
) -> list[str]:
    """Where the forecast is not what a reader would assume: it jumps away from today's price,
    or its band has no width (`step`: what one step is called)."""
    notes: list[str] = []
    if not rows:
        return notes
    first = rows[0]
    yhat, lower, upper = first["yhat"], first["yhat_lower"], first["yhat_upper"]
    if None not in (yhat, lower, upper) and last_close and not lower <= last_close <= upper:
        change = (yhat - last_close) / abs(last_close)
        way = "above" if change > 0 else "below"
        notes.append(
            f"The forecast for the first {step} ({yhat:.2f}) is {abs(change):.0%} {way} the last "
            f"price ({last_close:.2f}), outside its own band: it starts from the model's "
            "smoothed fit, not from the last price."
        )
    widths = [
        r["yhat_upper"] - r["yhat_lower"]
        for r in rows
        if r["yhat_upper"] is not None and r["yhat_lower"] is not None
    ]
    if widths and max(widths) < NO_WIDTH * abs(last_close):
        notes.append(
            f"The band has almost no width: {n} prices are too few to measure the "
            "uncertainty, so it is unknown, not zero."
        )
    return notes


def band_width_ratio(prices: Sequence[float]) -> float | None:
    """Today's typical one-step move (exponentially weighted, as the calibrated band's) over
    its median across these prices: above 1, today's band is wider than usual. None for prices
    that are not all positive or too few to say."""
    y = np.asarray(prices, dtype=float)
    y = y[~np.isnan(y)]
    if len(y) < 2 * SETTLING or np.any(y <= 0):
        return None
    path = volatility.ewma_path(np.log(y), volatility.BAND_DECAY)
    usual = float(np.median(path[SETTLING:]))
    return float(path[-1]) / usual if usual > 0 else None


def band_width_note(prices: Sequence[float], step: str = "session") -> str | None:
    """How wide today's band is against the usual one, from the prices alone: the typical
    one-step move now (exponentially weighted, as the calibrated band's) against its median
    over these prices. None for prices that are not all positive or too few to say."""
    ratio = band_width_ratio(prices)
    if ratio is None:
        return None
    count = int(np.count_nonzero(~np.isnan(np.asarray(prices, dtype=float))))
    if ratio >= WIDER_RATIO:
        verdict = "The band is wider than usual: volatility has risen"
    elif ratio <= NARROWER_RATIO:
        verdict = "The band is narrower than usual: the market has been calm"
    else:
        verdict = "The band is about as wide as usual"
    return (
        f"{verdict} (the typical move from one {step} to the next is {ratio:.1f}× its median "
        f"over these {count} {step}s)."
    )
