"""How a forecast is scored once its prices are known: one module for the backtests and the
track record.

Pure functions on numpy arrays, element by element where they take arrays, so a caller can
score one step, a fold or every stored step at once. Every forecast is judged against the
random walk from the same origin (the last price it starts from, carried forward):

- `absolute_error`: |forecast - actual|;
- `random_walk_error`: |last price at the origin - actual|, the random walk's error;
- `inside_band`: whether the actual price fell within [lower, upper];
- `interval_score`: the band's width plus 2/α times how far the price fell outside it, with
  α = 1 - interval width (Gneiting and Raftery's proper score: lower is better, and a narrow
  band is rewarded only while it still holds);
- `mase`: what this project calls MASE, our mean absolute error divided by the random walk's
  over the same prices (the random walk scores exactly 1; under 1 beats it);
- `interval_score_ratio`: the same for the interval score: our band's mean score over the
  random walk's band's on the same prices (under 1: a sharper band that still holds);
- `trailing_volatility`, `regimes` and `regime_coverage`: coverage in calm, middle and stormy
  markets, the thirds of the origins by the spread of the 20 one-step log changes before each
  (a band drawn from a year of history is too wide in calm stretches and too narrow in storms,
  which coverage pooled over years hides).

Actual prices that are NaN (not known yet) give NaN errors and False inside the band: callers
select the known ones first (`known`).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

Floats = NDArray[np.float64]


def _floats(x: ArrayLike) -> Floats:
    return np.asarray(x, dtype=float)


def known(actual: ArrayLike) -> NDArray[np.bool_]:
    """Which actual prices are known (not NaN)."""
    return ~np.isnan(_floats(actual))


def absolute_error(forecast: ArrayLike, actual: ArrayLike) -> Floats:
    return np.abs(_floats(forecast) - _floats(actual))


def random_walk_error(last: ArrayLike, actual: ArrayLike) -> Floats:
    """The random walk's absolute error: it forecasts the origin's last price at every step."""
    return absolute_error(last, actual)


def inside_band(lower: ArrayLike, upper: ArrayLike, actual: ArrayLike) -> NDArray[np.bool_]:
    a = _floats(actual)
    return (_floats(lower) <= a) & (a <= _floats(upper))


def interval_score(
    lower: ArrayLike, upper: ArrayLike, actual: ArrayLike, interval_width: float
) -> Floats:
    """Width plus 2/α times the distance outside the band, α = 1 - interval width."""
    if not 0 < interval_width < 1:
        raise ValueError(f"interval width must be between 0 and 1, not {interval_width}")
    lo, up, a = _floats(lower), _floats(upper), _floats(actual)
    alpha = 1.0 - interval_width
    below = np.maximum(lo - a, 0.0)
    above = np.maximum(a - up, 0.0)
    return (up - lo) + (2.0 / alpha) * (below + above)


def mean(values: ArrayLike) -> float:
    """The mean, NaN for no values (rather than numpy's warning)."""
    v = _floats(values)
    return float(np.mean(v)) if v.size else math.nan


def _ratio_of_means(ours: ArrayLike, walk: ArrayLike) -> float:
    denominator = mean(walk)
    if not denominator > 0:
        return math.nan
    return mean(ours) / denominator


def mase(errors: ArrayLike, walk_errors: ArrayLike) -> float:
    """Our mean absolute error over the random walk's on the same prices; NaN when the random
    walk made no error (or nothing was scored), since no ratio says anything then."""
    return _ratio_of_means(errors, walk_errors)


def interval_score_ratio(scores: ArrayLike, walk_scores: ArrayLike) -> float:
    """Our mean interval score over the random walk's band's on the same prices; NaN when the
    random walk's is not positive (or nothing was scored)."""
    return _ratio_of_means(scores, walk_scores)


REGIMES = ("calm", "middle", "stormy")
TRAILING_SESSIONS = 20


def trailing_volatility(prices: ArrayLike, sessions: int = TRAILING_SESSIONS) -> float:
    """The standard deviation of the last `sessions` one-step log changes of the known prices
    (the market's mood at a forecast's origin); NaN with fewer than two changes or a price that
    is not positive."""
    p = _floats(prices)
    p = p[known(p)][-(sessions + 1) :]
    if len(p) < 3 or np.any(p <= 0):
        return math.nan
    return float(np.std(np.diff(np.log(p)), ddof=1))


def regimes(volatilities: ArrayLike) -> NDArray[np.int_]:
    """0, 1 or 2 for each origin in the calm, middle or stormy third of these origins by
    trailing volatility (the thirds' edges are the volatilities' terciles; NaN gives -1)."""
    v = _floats(volatilities)
    out = np.full(v.shape, -1, dtype=int)
    seen = ~np.isnan(v)
    if seen.any():
        edges = np.quantile(v[seen], [1 / 3, 2 / 3])
        out[seen] = np.searchsorted(edges, v[seen], side="right")
    return out


def regime_coverage(inside: ArrayLike, regime: ArrayLike) -> dict[str, float]:
    """The share inside the band in each regime (`regime` from `regimes`, one per point)."""
    hit = np.asarray(inside, dtype=bool)
    r = np.asarray(regime)
    return {name: mean(hit[r == i]) for i, name in enumerate(REGIMES)}
