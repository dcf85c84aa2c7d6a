"""The shape of the calibrated band: quantiles of the series' own past changes, each measured
in units of the volatility expected before it (filtered historical simulation).

Daily changes are not normal: their middle is narrower and their tails fatter, so a normal
curve drawn on the right volatility holds too much in the middle and too little in the tails.
Here the shape comes from the series itself:

1. `standardized_changes`: every one-step change of the history divided by the exponentially
   weighted volatility estimate just before it (`volatility.ewma_path`), so a change in a storm
   and one in a calm stretch count alike;
2. `offsets`: for each central width `w`, the `(1 - w) / 2` and `(1 + w) / 2` quantiles of
   those standardized changes, less their median: the band's lower and upper edge in units of
   the spread, with the point forecast as the median (the edges may be asymmetric around it);
3. the caller multiplies them by the spread expected `k` steps ahead (the one-step spread times
   `sqrt(k)`, `walk.half_width`'s rule) and adds the point forecast.

Nested by construction: the quantiles of one sample grow with the probability, so a wider level
is never inside a narrower one; and with a spread that grows with the step (`sqrt(k)` times a
spread whose variance adds up), every level widens with the step. Chosen on the embedded prices
against a normal curve, a Student-t fitted to the same changes, the same quantiles taken per
step from the history's k-step changes, and an adaptive correction per level (bench README,
"The calibrated band's shape").
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tickercast.quant import volatility


def tail_probabilities(widths: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The probabilities of the lower and upper edge of each central width (fractions in
    (0, 1)): `(1 - w) / 2` and `(1 + w) / 2`."""
    w = np.asarray(widths, dtype=float)
    if np.any(~((w > 0) & (w < 1))):
        raise ValueError(f"central widths must lie between 0 and 1, not {w.tolist()}")
    return (1 - w) / 2, (1 + w) / 2


def standardized_changes(values: np.ndarray, decay: float) -> np.ndarray:
    """Each one-step change of the observed values (NaN skipped) over the exponentially
    weighted spread of the changes before it (the first over the estimate's starting value,
    the root mean square of them all); 0 where that spread is 0."""
    seen = values[~np.isnan(values)]
    changes = np.diff(seen)
    if not len(changes):
        return changes
    path = volatility.ewma_path(seen, decay)
    before = np.concatenate([[np.sqrt(np.mean(changes**2))], path[:-1]])
    return np.divide(changes, before, out=np.zeros_like(changes), where=before > 0)


def empirical_offsets(
    standardized: np.ndarray, widths: Sequence[float] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The lower and upper edge of each central width in units of the spread, read directly
    off the standardized changes: their quantiles at `tail_probabilities(widths)` less their
    median (linear interpolation between order statistics). All zero with no change. (Tried
    as the band's shape and dropped: its middle was too narrow beyond one step.)"""
    low, high = tail_probabilities(widths)
    if not len(standardized):
        return np.zeros(len(low)), np.zeros(len(high))
    quantile = np.quantile(standardized, np.concatenate([low, high, [0.5]]))
    median = quantile[-1]
    return quantile[: len(low)] - median, quantile[len(low) : -1] - median


def fitted_t(standardized: np.ndarray) -> tuple[float, float]:
    """A Student-t fitted to the standardized changes less their median: its degrees of freedom
    from their excess kurtosis `k` (the t's is `6 / (df - 4)`, so `df = 4 + 6 / k`, `k` at least
    `MIN_EXCESS_KURTOSIS`: at most 124, nearly normal) and their root mean square, the spread
    the t is scaled to; a spread of 0 for fewer than two changes or none that moved."""
    centred = standardized - np.median(standardized) if len(standardized) else standardized
    spread = float(np.sqrt(np.mean(centred**2))) if len(centred) > 1 else 0.0
    if not spread > 0:
        return 4 + 6 / MIN_EXCESS_KURTOSIS, 0.0
    deviations = centred - np.mean(centred)
    second = float(np.mean(deviations**2))
    excess = float(np.mean(deviations**4)) / second**2 - 3 if second > 0 else 0.0
    return 4 + 6 / max(excess, MIN_EXCESS_KURTOSIS), spread


MIN_EXCESS_KURTOSIS = 0.05
_ANGLES = np.linspace(0.0, np.pi / 2, 4097)


def t_quantiles(probabilities: np.ndarray, df: float) -> np.ndarray:
    """The Student-t's quantiles (`df` > 1) at probabilities above 1/2: with `x = sqrt(df) *
    tan(a)`, the t's mass between 0 and x is the integral of `cos(a) ** (df - 1)` from 0 to a
    over its integral to pi/2, taken by the trapezoid rule on 4,096 intervals and inverted by
    interpolation (within 1e-5 of the exact quantile up to 0.995 for df from 2 to 124)."""
    density = np.cos(_ANGLES) ** (df - 1)
    mass = np.concatenate([[0.0], np.cumsum((density[1:] + density[:-1]) / 2)])
    angle = np.interp(2 * np.asarray(probabilities, dtype=float) - 1, mass / mass[-1], _ANGLES)
    return np.asarray(np.sqrt(df) * np.tan(angle), dtype=float)


def offsets(
    standardized: np.ndarray, widths: Sequence[float] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The band's shape: the lower and upper edge of each central width in units of the spread,
    from the Student-t `fitted_t` to the standardized changes (scaled to their root mean square:
    `t_quantile * sqrt((df - 2) / df) * spread`), symmetric around the median."""
    _, high = tail_probabilities(widths)
    df, spread = fitted_t(standardized)
    edge = t_quantiles(high, df) * np.sqrt((df - 2) / df) * spread
    return -edge, edge


def normal_offsets(
    widths: Sequence[float] | np.ndarray, scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """The normal curve's edges (the band before this shape): `-/+ z(w) * scale`."""
    from statistics import NormalDist

    _, high = tail_probabilities(widths)
    z = np.array([NormalDist().inv_cdf(p) for p in high]) * scale
    return -z, z
