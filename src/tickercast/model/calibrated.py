"""The calibrated forecast: Prophet's predicted change, damped, from the last observed value,
with a band calibrated on how far such prices actually move.

Plain Prophet forecasts from its smoothed fit, so its first step can jump away from the last
price, and its band (the fit's residual noise plus trend changes) is far too narrow for prices.
Measured on the embedded prices and on stocks outside the repository (README, "Forecast
quality"), this does better:

1. Fit Prophet to the logarithm of the values (when all are positive; else to the values), so a
   change is a relative change and the band is symmetric in percent.
2. Anchor at the last observed value `z0` and add Prophet's predicted change, damped: step k
   of the fitted path changes the forecast by `DAMPING ** k` times its own change, so
   `z(t_h) = z0 + sum over k <= h of DAMPING**k * (f(t_k) - f(t_k-1))`, with `t_0` the last
   observed date (a damped trend). `DAMPING = 0` is the random walk; near 1, Prophet's change.
3. The band: how far such prices moved, in two parts. Its size is the random walk's
   (`quant/walk.py`), widening with the square root of the step, on a volatility that follows
   the market's mood (`regime_spread`): the exponentially weighted spread of the one-step log
   changes (decay `volatility.BAND_DECAY`, half its weight on the last 17 sessions), expected
   to revert by `REVERSION` per step towards the spread of the last `VOLATILITY_WINDOW` changes
   (chosen on the embedded prices and checked on prices outside the repository, `python -m
   bench.bands`: against the 250-session spread alone, `year_spread`, it holds its level in
   calm and stormy stretches alike). Its shape is the series' own (`quant/quantiles.py`): a
   Student-t fitted to the past one-step changes, each over the volatility expected before it,
   so `yhat` is the median and every level (`forecast_levels`) holds about what it says, where
   a normal curve held too much in the middle and too little in the tails (bench README, "The
   calibrated band's shape"). `normal_shape` with `NORMAL_SCALE` is the band before.

The answer keeps the contract's columns in the series' units. Each seasonality's column is its
damped change applied to the trend path (`trend_path * (exp(change) - 1)` for log fits, the
change itself otherwise); `seasonal` and `seasonalities` are their sum; `trend = yhat -
seasonal`, so the components add up to `yhat` exactly. History rows (`include_history`) use the
same formula and a one-step band.

The fit is injected (`FitFunction`): the CmdStan fit or a faster one give the same kind of
point model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from tickercast.contract import VALUE_KEYS, ForecastRequest
from tickercast.quant import quantiles, volatility
from tickercast.quant.walk import change_spread

DAMPING = 0.5
REVERSION = 0.9
NORMAL_SCALE = 0.944  # the normal curve's scale in the band before (held 80% pooled)
VOLATILITY_WINDOW = 250

# A point model: dates in, components out ("trend" and one array per seasonality, in the
# fitted units); their sum is the fitted value.
PointModel = Callable[[pd.DatetimeIndex], dict[str, np.ndarray]]
# A fit function: the training rows (dates, values with NaN for missing) in, a point model out.
FitFunction = Callable[[pd.DatetimeIndex, np.ndarray], PointModel]
# A volatility rule: the fitted values and the steps ahead in, one step's spread per step out.
SpreadRule = Callable[[np.ndarray, np.ndarray], np.ndarray]
# A band shape: the fitted values and central widths (fractions) in, each width's lower and
# upper edge out, in units of the spread expected at the step (`spread * sqrt(step)`).
Shape = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
# Central levels (percent) to their lower and upper edges, aligned with the forecast's rows.
LevelBands = dict[float, tuple[np.ndarray, np.ndarray]]


def regime_spread(z: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """The one-step spread expected `k` steps ahead: the exponentially weighted estimate now,
    moving towards the last year's spread."""
    now = volatility.ewma(z, volatility.BAND_DECAY)
    year = change_spread(z, VOLATILITY_WINDOW)
    return volatility.horizon_volatility(now, year, steps, REVERSION)


def year_spread(z: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """The band before `regime_spread` (with a normal shape of scale 1): the last year's spread
    throughout."""
    return np.full(len(steps), change_spread(z, VOLATILITY_WINDOW))


def past_changes_shape(z: np.ndarray, widths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The band's shape: quantiles of the past one-step changes over the exponentially weighted
    spread before each (`quantiles.offsets`), less their median."""
    return quantiles.offsets(quantiles.standardized_changes(z, volatility.BAND_DECAY), widths)


def normal_shape(scale: float = NORMAL_SCALE) -> Shape:
    """The normal curve times `scale` (the band before `past_changes_shape`)."""

    def shape(z: np.ndarray, widths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return quantiles.normal_offsets(widths, scale)

    return shape


def damped_change(values: np.ndarray, n_history: int, damping: float) -> np.ndarray:
    """The damped change of a fitted path since the origin. `values` holds the history rows,
    then the future steps in order, then the origin. Step k's own change is weighted by
    `damping ** k`, so the forecast follows Prophet's first steps and levels off after a few
    (a damped trend); history rows get `damping` times their difference from the origin."""
    origin = values[-1]
    history, future = values[:n_history], values[n_history:-1]
    steps = np.diff(np.concatenate([[origin], future]))
    weights = damping ** np.arange(1, len(future) + 1)
    return np.concatenate([damping * (history - origin), np.cumsum(weights * steps)])


def forecast(
    req: ForecastRequest,
    fit: FitFunction,
    damping: float = DAMPING,
    spread: SpreadRule = regime_spread,
    shape: Shape = past_changes_shape,
    dates: pd.DatetimeIndex | None = None,
) -> dict[str, np.ndarray]:
    """The contract's value columns at the request's dates (the history first with
    `include_history`, then the `periods` future steps); `dates` puts other dates in the place
    of those (a study of past forecasts at the dates that followed, `bench/honesty.py`)."""
    return forecast_levels(req, fit, (), damping, spread, shape, dates)[0]


def forecast_levels(
    req: ForecastRequest,
    fit: FitFunction,
    levels: Sequence[float],
    damping: float = DAMPING,
    spread: SpreadRule = regime_spread,
    shape: Shape = past_changes_shape,
    dates: pd.DatetimeIndex | None = None,
) -> tuple[dict[str, np.ndarray], LevelBands]:
    """`forecast`'s columns and, from the same fit, each central level's band (`levels` in
    percent, each in (0, 100)) at the same rows: a level `L` with `L / 100 ==
    req.interval_width` gives exactly `yhat_lower` and `yhat_upper`."""
    dates = req.dates if dates is None else dates
    order = np.argsort(req.ds.asi8, kind="stable")
    ds, y = req.ds[order], req.y[order]
    seen = ~np.isnan(y)
    use_log = bool(np.all(y[seen] > 0))
    z = np.log(y) if use_log else y.copy()
    model = fit(ds, z)
    origin = ds[seen][-1]
    z0 = float(z[seen][-1])
    n_history = len(dates) - req.periods
    parts = model(dates.append(pd.DatetimeIndex([origin])))
    change = {name: damped_change(v, n_history, damping) for name, v in parts.items()}
    trend_change = change.pop("trend")

    steps = np.concatenate([np.ones(n_history), np.arange(1, req.periods + 1)])
    size = spread(z, steps) * np.sqrt(steps)
    widths = np.array([req.interval_width, *(level / 100 for level in levels)])
    low, high = shape(z, widths)
    base = z0 + trend_change
    center = base + sum(change.values(), np.zeros(len(dates)))
    back = np.exp if use_log else (lambda x: x)
    pairs = zip(low, high, strict=True)
    edges = [(back(center + size * lo), back(center + size * hi)) for lo, hi in pairs]
    path = back(base)
    components = {name: path * (np.exp(c) - 1) if use_log else c for name, c in change.items()}
    columns = _columns(back(center), *edges[0], components, len(dates))
    return columns, {float(level): edge for level, edge in zip(levels, edges[1:], strict=True)}


def _columns(
    yhat: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    components: dict[str, np.ndarray],
    rows: int,
) -> dict[str, np.ndarray]:
    """The contract's value columns: the band on yhat and on the trend (`yhat - seasonal`);
    each seasonality's column with no band of its own."""
    zeros = np.zeros(rows)
    seasonal = sum(components.values(), zeros)
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
