"""The random walk's band: how far a series may move in k steps, judged by how far it moved in
one step lately.

Used by the random walk (`random_walk`: the baseline of every backtest, and of the track
record's interval score ratio, so both judge a band against the same one) and by the calibrated
forecast (`model/calibrated.py`): the half-width at step k is `z * scale * volatility *
sqrt(k)`, `z` the normal quantile of the interval width. The volatility is the caller's
estimate, so a method can estimate it its own way and keep the same band. (The mock's band is a
rule of its own.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np


def z_score(interval_width: float) -> float:
    """The normal quantile that puts `interval_width` of the mass between -z and z."""
    return NormalDist().inv_cdf(0.5 + interval_width / 2)


def change_spread(values: np.ndarray, window: int | None = None) -> float:
    """The standard deviation of the one-step changes of the observed values (NaN skipped),
    over the last `window` changes when given; 0 with fewer than two changes."""
    seen = values[~np.isnan(values)]
    changes = np.diff(seen if window is None else seen[-(window + 1) :])
    return float(np.std(changes, ddof=1)) if len(changes) > 1 else 0.0


def half_width(
    volatility: float | np.ndarray, steps: np.ndarray, interval_width: float, scale: float = 1.0
) -> np.ndarray:
    """The band's half-width at each step: `volatility` is the spread of one step's change (one
    for all steps, or one per step), and the spread of `k` steps' change is `sqrt(k)` times it
    (independent steps)."""
    return z_score(interval_width) * scale * volatility * np.sqrt(steps)


@dataclass(frozen=True)
class Forecast:
    """One fold's forecast by step: the point and the band, each `horizon` long."""

    yhat: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


def random_walk(
    train: np.ndarray, horizon: int, interval_width: float, drift: bool = False
) -> Forecast:
    """The last training value (plus the mean one-step change per step, with `drift`), with a
    band from the training window's one-step changes, widening with the square root of the step."""
    seen = train[~np.isnan(train)]
    changes = np.diff(seen)
    slope = float(np.mean(changes)) if drift and len(changes) else 0.0
    steps = np.arange(1, horizon + 1, dtype=float)
    yhat = seen[-1] + slope * steps
    half = half_width(change_spread(seen), steps, interval_width)
    return Forecast(yhat, yhat - half, yhat + half)


def quantile_walk(
    train: np.ndarray, horizon: int, widths: Sequence[float]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The random walk with quantiles of past changes (the COVID-19 Forecast Hub's baseline):
    the last training value, with the band of each central width (fractions) from the
    quantiles of the training window's one-step changes and their negatives (symmetric around
    the last value, which is the median), times the square root of the step. One (lower,
    upper) pair per width, each `horizon` long."""
    seen = train[~np.isnan(train)]
    changes = np.diff(seen)
    both = np.concatenate([changes, -changes]) if len(changes) else np.zeros(1)
    root_k = np.sqrt(np.arange(1, horizon + 1, dtype=float))
    upper = np.quantile(both, [(1 + w) / 2 for w in widths])
    return [(seen[-1] - q * root_k, seen[-1] + q * root_k) for q in upper]
