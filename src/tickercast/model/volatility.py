"""How much a series moves in one step, following the market's mood: the volatility estimate
behind the calibrated band.

The plain estimate (`band.change_spread`, the standard deviation of the last 250 changes, each
weighted alike) is slow to notice a new regime: a calm stretch after a storm keeps a wide band
for a year, and a storm gets a narrow one for months. Here, on the one-step changes of the
observed values (log prices for the calibrated forecast):

- `ewma`: an exponentially weighted root mean square of the changes (RiskMetrics' estimate):
  the change `j` steps back weighs `(1 - decay) * decay**j`, so the estimate follows the
  market's mood within weeks (half its weight lies on the last `log(0.5) / log(decay)` changes).
  It starts from the mean square of all the changes it is given, which weighs nothing after a
  few hundred steps.

`horizon_volatility` turns a one-step estimate into the per-step spread used by a band that
widens with the square root of the step: with `reversion < 1` the variance expected `k` steps
ahead moves from the current estimate towards a long-run one at that rate per step (the
forecast of a GARCH(1,1) model), so a storm is not assumed to last for the whole horizon.
"""

from __future__ import annotations

import math

import numpy as np


def ewma(values: np.ndarray, decay: float) -> float:
    """Exponentially weighted root mean square of the one-step changes (newest weighs most)."""
    if not 0 < decay < 1:
        raise ValueError(f"decay must lie between 0 and 1, not {decay}")
    moves = np.diff(values[~np.isnan(values)])
    if len(moves) == 0:
        return 0.0
    squares = moves**2
    ages = np.arange(len(moves) - 1, -1, -1)
    # The recursion v_t = decay * v_{t-1} + (1 - decay) * r_t**2 from v_0 = mean square,
    # summed in closed form (its weights underflow to 0, never overflow).
    variance = (1 - decay) * float(np.dot(decay**ages, squares))
    variance += decay ** len(moves) * float(np.mean(squares))
    return math.sqrt(variance)


def horizon_volatility(
    current: float, long_run: float, steps: np.ndarray, reversion: float = 1.0
) -> np.ndarray:
    """The one-step spread to use `k` steps ahead (times the square root of `k` for the band):
    the root of the mean variance expected over steps 1..k, moving from `current` towards
    `long_run` by `reversion` per step (1: `current` throughout)."""
    k = np.asarray(steps, dtype=float)
    if reversion >= 1:
        return np.full(k.shape, current)
    share = (1 - reversion**k) / ((1 - reversion) * k)
    return np.sqrt(long_run**2 + (current**2 - long_run**2) * share)
