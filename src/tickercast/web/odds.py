"""The odds in words: the chance a price ends above or below a level on the forecast's last
date, read from the forecast's quantiles there. Pure functions; the ticker page's script reads
its odds box by the same rule (static/ticker.js, `chanceBelow`).

The rule: each level L of the answer gives the (50 - L/2)% quantile (`yhat_lower_L`) and the
(50 + L/2)% quantile (`yhat_upper_L`); `yhat` is the median. The chance of ending below a price
is read by linear interpolation between the two quantiles around it in log price (in the value
itself when a quantile is not positive: a log has no meaning there). Below the lowest quantile
the chance is only known to be under its probability (1% for the Forecast Hub's levels), above
the highest over its probability (99%): the number given there is that bound.

Quantiles out of order (plain Prophet's `yhat` is its point forecast, not the draws' median,
and can fall outside a narrow level's band) are put in order first (rearrangement), so the
chance never falls as the price rises.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from typing import Any

from tickercast.contract import level_keys

Quantile = tuple[float, float]  # (probability, value)

FALL = 0.10  # the fall the odds name: "a fall of 10% or more"
# Above today's price with a chance within this of one half: the forecast cannot call the
# direction.
NO_CALL = 0.05
ISO_CURRENCY_SIGNS = {"USD": "$", "EUR": "€", "GBP": "£"}


def quantiles_at(row: Mapping[str, Any], levels: Sequence[float]) -> list[Quantile]:
    """A forecast row's quantiles, lowest probability first: each level's edges and `yhat` as
    the median. Empty when the row lacks a level's keys or a value."""
    found: list[tuple[float, Any]] = [(0.5, row.get("yhat"))]
    for level in levels:
        lower, upper = level_keys(level)
        half = float(level) / 200
        found += [(round(0.5 - half, 6), row.get(lower)), (round(0.5 + half, 6), row.get(upper))]
    if any(value is None for _, value in found):
        return []
    return sorted((p, float(v)) for p, v in found)


def row_quantiles(
    row: Mapping[str, Any], levels: Sequence[float], interval_width: float
) -> list[Quantile]:
    """`quantiles_at` the row's `levels`; for an answer without them, the three its band gives
    (`yhat_lower`, `yhat`, `yhat_upper` of `interval_width`); empty when a value is missing."""
    found = quantiles_at(row, levels)
    if found:
        return found
    lower, centre, upper = row.get("yhat_lower"), row.get("yhat"), row.get("yhat_upper")
    if lower is None or centre is None or upper is None:
        return []
    half = interval_width / 2
    probabilities = (round(0.5 - half, 6), 0.5, round(0.5 + half, 6))
    return sorted(zip(probabilities, (float(lower), float(centre), float(upper)), strict=True))


def chance_above(price: float, quantiles: Sequence[Quantile]) -> float | None:
    """The chance of ending above `price`, to 4 places (None without quantiles)."""
    return round(1.0 - chance_below(price, quantiles), 4) if quantiles else None


def chance_below(price: float, quantiles: Sequence[Quantile]) -> float:
    """The chance of ending below `price` (see the module's rule): between the lowest and the
    highest quantile's probability, which it equals below and above them."""
    probabilities = [p for p, _ in quantiles]
    values = sorted(v for _, v in quantiles)
    if price < values[0]:
        return probabilities[0]
    i = bisect.bisect_right(values, price) - 1  # values[i] <= price < values[i + 1]
    if i >= len(values) - 1:
        return probabilities[-1]
    scale = math.log if values[0] > 0 else float
    low, high = scale(values[i]), scale(values[i + 1])
    if not high > low:  # two quantiles too close for their logs to differ
        return probabilities[i]
    share = (scale(price) - low) / (high - low)
    return probabilities[i] + share * (probabilities[i + 1] - probabilities[i])


def percent_below(price: float, quantiles: Sequence[Quantile]) -> str:
    """The chance of ending below `price` in words: "14%", or "under 1%" / "over 99%" beyond
    the outermost quantiles."""
    return _percent(price, quantiles, below=True)


def percent_above(price: float, quantiles: Sequence[Quantile]) -> str:
    """The chance of ending above `price` in words."""
    return _percent(price, quantiles, below=False)


def _percent(price: float, quantiles: Sequence[Quantile], below: bool) -> str:
    values = [v for _, v in quantiles]
    lowest, highest = quantiles[0][0], quantiles[-1][0]
    if price < min(values):
        return f"under {_whole(lowest)}%" if below else f"over {_whole(highest)}%"
    if price > max(values):
        return f"over {_whole(highest)}%" if below else f"under {_whole(lowest)}%"
    chance = chance_below(price, quantiles)
    return f"{_whole(chance if below else 1 - chance)}%"


def _whole(chance: float) -> int:
    """A chance in whole percent, halves rounded up (as the page's script rounds)."""
    return math.floor(chance * 100 + 0.5)


def amount(value: float, unit: str) -> str:
    """A price as the page writes it: `$56.14` in a currency it has a sign for, `56.14 CAD` in
    another, the bare number for an upload (no currency)."""
    if len(unit) == 3 and unit.isalpha() and unit.isupper():
        sign = ISO_CURRENCY_SIGNS.get(unit)
        return f"{sign}{value:,.2f}" if sign else f"{value:,.2f} {unit}"
    return f"{value:,.2f}"


def odds(
    quantiles: Sequence[Quantile], last: float, date: str, unit: str, upload: bool = False
) -> dict[str, Any] | None:
    """The odds the page states at the forecast's last date (`date`): the chance of ending
    above the last price and of a fall of `FALL` or more, as numbers and as sentences. None
    without quantiles or a positive last price (a fall in percent means nothing then)."""
    if not quantiles or not last > 0:
        return None
    above = 1 - chance_below(last, quantiles)
    fall = chance_below(last * (1 - FALL), quantiles)
    start = f"the last value ({amount(last, unit)})" if upload else f"today's {amount(last, unit)}"
    first = f"Chance it ends above {start} on {date}: {percent_above(last, quantiles)}"
    no_call = _whole(0.5 - NO_CALL) <= _whole(above) <= _whole(0.5 + NO_CALL)
    first += ": the forecast cannot call the direction." if no_call else "."
    second = (
        f"Chance of a fall of {FALL:.0%} or more: {percent_below(last * (1 - FALL), quantiles)}."
    )
    return {
        "price": round(last, 6),
        "date": date,
        "above": round(above, 4),
        "fall_10": round(fall, 4),
        "text": [first, second],
    }


def horizon_quantiles(rows: Sequence[Mapping[str, Any]], levels: Sequence[float]) -> list[Quantile]:
    """The quantiles at the forecast's last row (none without rows)."""
    return quantiles_at(rows[-1], levels) if rows else []
