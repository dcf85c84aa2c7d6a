"""How much a series moves in one step, following the market's mood: the volatility estimate
behind the calibrated band, and the web app's word on whether today's band is wider than usual.

The plain estimate (`band.change_spread`, the standard deviation of the last 250 changes, each
weighted alike) is slow to notice a new regime: a calm stretch after a storm keeps a wide band
for a year, and a storm gets a narrow one for months. Here, on the one-step changes of the
observed values (log prices for the calibrated forecast):

- `ewma`: an exponentially weighted root mean square of the changes (RiskMetrics' estimate):
  the change `j` steps back weighs `(1 - decay) * decay**j`, so the estimate follows the
  market's mood within weeks (half its weight lies on the last `log(0.5) / log(decay)` changes).
  It starts from the mean square of all the changes it is given, which weighs nothing after a
  few hundred steps. `ewma_path` gives it after every change: how wide a band was at each
  point of the history, to tell today's from the usual.

`horizon_volatility` turns a one-step estimate into the per-step spread used by a band that
widens with the square root of the step: with `reversion < 1` the variance expected `k` steps
ahead moves from the current estimate towards a long-run one at that rate per step (the
forecast of a GARCH(1,1) model), so a storm is not assumed to last for the whole horizon.
"""

from __future__ import annotations

import numpy as np

# The calibrated band's decay (model/calibrated.py, measured in `bench.bands`): half the weight
# on the last 17 changes. The web app's "band wider than usual" note follows it too.
BAND_DECAY = 0.96


def ewma_path(values: np.ndarray, decay: float) -> np.ndarray:
    """The exponentially weighted root mean square of the one-step changes after each change,
    oldest first: `v = decay * v + (1 - decay) * change**2` from the mean square of them all.

    Computed a run of changes at a time: within a run, `v_j = decay**(j+1) * (v_before +
    (1 - decay) * sum over l <= j of decay**-(l+1) * change_l**2)`, the runs short enough that
    `decay**-length` stays under 1e8 (so no term overflows or swamps another)."""
    if not 0 < decay < 1:
        raise ValueError(f"decay must lie between 0 and 1, not {decay}")
    squares = np.diff(values[~np.isnan(values)]) ** 2
    variance = float(np.mean(squares)) if len(squares) else 0.0
    path = np.empty(len(squares))
    run = max(1, min(len(squares), int(8 / -np.log10(decay))))
    growth = decay ** -np.arange(1, run + 1, dtype=float)
    for start in range(0, len(squares), run):
        chunk = squares[start : start + run]
        g = growth[: len(chunk)]
        path[start : start + len(chunk)] = (variance + (1 - decay) * np.cumsum(g * chunk)) / g
        variance = float(path[start + len(chunk) - 1])
    return np.sqrt(path)


def ewma(values: np.ndarray, decay: float) -> float:
    """The exponentially weighted estimate now (newest changes weigh most); 0 with no change."""
    path = ewma_path(values, decay)
    return float(path[-1]) if len(path) else 0.0


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
