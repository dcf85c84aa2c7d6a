"""The calibrated forecast: Prophet's predicted change, damped, from the last observed value,
with a band calibrated on how far such prices actually move.

Plain Prophet forecasts from its smoothed fit, so its first step can jump away from the last
price, and its band (the fit's residual noise plus trend changes) is far too narrow for prices.
Measured on the embedded prices and on stocks outside the repository (README, "Forecast
quality"), this does better:

1. Fit Prophet to the logarithm of the values (when all are positive; else to the values), so a
   change is a relative change and the band is symmetric in percent.
2. Anchor at the last observed value `z0` and add `DAMPING` times Prophet's predicted change
   since that date: `z(t) = z0 + DAMPING * (f(t) - f(t0))`. `DAMPING = 0` is the random walk,
   `1` Prophet's whole change.
3. The band: the standard deviation of the last `VOLATILITY_WINDOW` one-step log changes,
   widening with the square root of the step, times the normal quantile of `interval_width`
   and `BAND_SCALE`.

The answer keeps the contract's columns in the series' units. Each seasonality's column is its
damped change applied to the trend path (`trend_path * (exp(change) - 1)` for log fits, the
change itself otherwise); `seasonal` and `seasonalities` are their sum; `trend = yhat -
seasonal`, so the components add up to `yhat` exactly. History rows (`include_history`) use the
same formula and a one-step band.

The fit is injected (`FitFunction`): the CmdStan fit or a faster one give the same kind of
point model.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from tickercast.contract import VALUE_KEYS, ForecastRequest

DAMPING = 0.5
BAND_SCALE = 1.0
VOLATILITY_WINDOW = 250

# A point model: dates in, components out ("trend" and one array per seasonality, in the
# fitted units); their sum is the fitted value.
PointModel = Callable[[pd.DatetimeIndex], dict[str, np.ndarray]]
# A fit function: the training rows (dates, values with NaN for missing) in, a point model out.
FitFunction = Callable[[pd.DatetimeIndex, np.ndarray], PointModel]


def volatility(z: np.ndarray, window: int = VOLATILITY_WINDOW) -> float:
    """Standard deviation of the last `window` one-step changes of the observed values."""
    changes = np.diff(z[~np.isnan(z)][-(window + 1) :])
    return float(np.std(changes, ddof=1)) if len(changes) > 1 else 0.0


def forecast(
    req: ForecastRequest,
    dates: pd.DatetimeIndex,
    fit: FitFunction,
    damping: float = DAMPING,
    band_scale: float = BAND_SCALE,
) -> dict[str, np.ndarray]:
    """The contract's value columns at `dates` (the history first with `include_history`, then
    the `periods` future steps)."""
    from tickercast.model.backtesting import z_score

    order = np.argsort(req.ds.asi8, kind="stable")
    ds, y = req.ds[order], req.y[order]
    seen = ~np.isnan(y)
    use_log = bool(np.all(y[seen] > 0))
    z = np.log(y) if use_log else y.copy()
    model = fit(ds, z)
    origin = ds[seen][-1]
    z0 = float(z[seen][-1])
    parts = model(dates.append(pd.DatetimeIndex([origin])))
    change = {name: damping * (v[:-1] - v[-1]) for name, v in parts.items()}
    trend_change = change.pop("trend")

    n_history = len(dates) - req.periods
    steps = np.concatenate([np.ones(n_history), np.arange(1, req.periods + 1)])
    half = z_score(req.interval_width) * band_scale * volatility(z) * np.sqrt(steps)
    base = z0 + trend_change
    center = base + sum(change.values(), np.zeros(len(dates)))
    back = np.exp if use_log else (lambda x: x)
    yhat, lower, upper = back(center), back(center - half), back(center + half)
    path = back(base)
    components = {name: path * (np.exp(c) - 1) if use_log else c for name, c in change.items()}
    seasonal = sum(components.values(), np.zeros(len(dates)))
    zeros = np.zeros(len(dates))
    out = {
        "yhat": yhat,
        "yhat_lower": lower,
        "yhat_upper": upper,
        "trend": yhat - seasonal,
        "trend_lower": lower - seasonal,
        "trend_upper": upper - seasonal,
    }
    for name, values in (
        ("seasonal", seasonal),
        ("seasonalities", seasonal),
        ("weekly", components.get("weekly", zeros)),
        ("yearly", components.get("yearly", zeros)),
    ):
        for suffix in ("", "_lower", "_upper"):
            out[name + suffix] = values
    return {key: out[key] for key in VALUE_KEYS}
