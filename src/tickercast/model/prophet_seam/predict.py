"""Prophet's `predict` for the models this service fits, on plain arrays.

`Prophet.predict` spends most of its time building pandas frames and, for the uncertainty
interval, draws from the global `numpy.random` state. This module computes the same numbers
with the same operations (Prophet's own `piecewise_linear`; its Fourier features on arrays)
and the same sequence of draws, taken from a `RandomState` seeded from the request: the
result equals `numpy.random.seed(seed); model.predict(df)` to the bit (a test holds it to
that), runs several times faster, and needs no process-wide lock. Two shortcuts keep every
bit: the Laplace draws of the trend's changes are made from the same uniform draws, their
logarithm taken only where a change happens (`laplace_where`); the samples are sorted before
the percentiles are taken (the same order statistics, found faster). `components` is the point
forecast alone, without the uncertainty samples.

It covers what the service fits: linear growth, additive seasonalities chosen by Prophet,
no holidays and no extra regressors, MAP estimation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tickercast.contract import level_keys

# A fitted `prophet.Prophet`: its fitted attributes are Optional in Prophet's own annotations.
Prophet = Any


def epoch_days(dates: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """Days since the epoch, reckoned exactly as Prophet reckons them: pandas' `total_seconds`
    of the time since the epoch, over 86,400. For dates on whole seconds (every date a request
    can name but an instant with a fraction of a second) that is the whole seconds as floats,
    computed here without pandas; otherwise pandas computes it."""
    index = pd.DatetimeIndex(dates)
    if index.tz is None and len(index):
        ns = index.as_unit("ns").asi8
        seconds, fraction = np.divmod(ns, 10**9)
        if not fraction.any():
            return seconds.astype(float) / (24 * 60 * 60)
    series = pd.Series(index)
    epoch = pd.Timestamp("1970-01-01", tz=series.dt.tz)
    return ((series - epoch).dt.total_seconds() / (24 * 60 * 60)).to_numpy()


def scaled_times(ds: pd.DatetimeIndex, start: pd.Timestamp, t_scale: pd.Timedelta) -> np.ndarray:
    """Prophet's `t = (ds - start) / t_scale`, on the nanoseconds (the same division)."""
    since = ds.as_unit("ns").asi8 - pd.Timestamp(start).as_unit("ns").value
    return since / pd.Timedelta(t_scale).as_unit("ns").value


def fourier_series(days: np.ndarray, period: float, order: int) -> np.ndarray:
    """Prophet's `fourier_series` on days since the epoch, in the same operations."""
    x_t = np.pi * 2 * days
    features = np.empty((len(days), 2 * order))
    for i in range(order):
        c = (i + 1) / period * x_t
        features[:, 2 * i] = np.sin(c)
        features[:, 2 * i + 1] = np.cos(c)
    return features


def seasonal_features(model: Prophet, ds: pd.DatetimeIndex) -> tuple[np.ndarray, dict[str, slice]]:
    """The feature matrix Prophet builds, and each seasonality's columns in it."""
    days = epoch_days(ds)  # once for every seasonality
    blocks, spans, start = [], {}, 0
    for name, props in model.seasonalities.items():
        block = fourier_series(days, props["period"], props["fourier_order"])
        blocks.append(block)
        spans[name] = slice(start, start + block.shape[1])
        start += block.shape[1]
    if not blocks:  # Prophet's placeholder column when nothing is seasonal
        return np.zeros((len(ds), 1)), {}
    # Column-major like the frame Prophet builds, so the products sum in the same order.
    return np.asfortranarray(np.hstack(blocks)), spans


def _component(x: np.ndarray, beta: np.ndarray, columns: slice | list[slice]) -> np.ndarray:
    mask = np.zeros_like(beta)
    for span in columns if isinstance(columns, list) else [columns]:
        mask[:, span] = 1.0
    return np.matmul(x, (beta * mask).transpose())[:, 0]


def laplace_where(rng: np.random.RandomState, scale: float, where: np.ndarray) -> np.ndarray:
    """`rng.laplace(0, scale, where.shape) * where`, bit for bit, leaving `rng` where that
    leaves it, with the logarithm taken only where `where` holds (a few draws in a hundred).

    `RandomState.laplace` turns each uniform draw U into `0 - scale log(2 - U - U)` when
    U ≥ 0.5, else `0 + scale log(U + U)` (libm's `log`, as `math.log` is), and draws again for
    a U of exactly 0. Multiplied by False, a draw leaves a zero with its sign: +0 for U ≥ 0.5,
    -0 below. A U of 0 (one in 2⁵³) hands the whole draw back to numpy."""
    state = rng.get_state()
    uniform = rng.random_sample(where.shape)
    if not uniform.all():
        rng.set_state(state)
        return rng.laplace(0, scale, size=where.shape) * where
    out = np.where(uniform < 0.5, -0.0, 0.0)
    at = np.flatnonzero(where)
    out.flat[at] = [
        0.0 - scale * math.log(2.0 - u - u) if u >= 0.5 else 0.0 + scale * math.log(u + u)
        for u in uniform.flat[at].tolist()
    ]
    return out


def _trend_uncertainty(
    model: Prophet, t: np.ndarray, n_samples: int, rng: np.random.RandomState
) -> np.ndarray:
    """Prophet's `_sample_uncertainty` for linear growth, drawing from `rng`."""
    if t.max() <= 1:
        return np.zeros((n_samples, len(t)))
    future_t = t[t > 1]
    n_future = len(future_t)
    steps = future_t if n_future > 1 else np.asarray(model.history["t"], dtype=float)
    single_diff = np.diff(steps).mean()
    likelihood = len(model.changepoints_t) * single_diff
    mean_delta = np.mean(np.abs(model.params["delta"][0])) + 1e-8
    changes = rng.uniform(size=(n_samples, n_future)) < likelihood
    shifts = laplace_where(rng, float(mean_delta), changes)
    shifted = np.hstack([np.zeros((n_samples, 1)), shifts])[:, :-1]
    slopes = (shifted + shifts) / 2
    future = slopes.cumsum(axis=1).cumsum(axis=1) * single_diff
    past = np.zeros((n_samples, int(np.sum(t <= 1))))
    return np.concatenate([past, future], axis=1)


@dataclass
class Point:
    """The point forecast at dates sorted as Prophet sorts them: their scaled times, the
    trend in scaled units, the feature matrix and the columns so far (in the series' units)."""

    order: np.ndarray  # positions of the sorted dates among those asked
    t: np.ndarray
    expected: np.ndarray
    columns: dict[str, np.ndarray]

    def in_asked_order(self) -> dict[str, np.ndarray]:
        back = np.empty_like(self.order)
        back[self.order] = np.arange(len(self.order))
        return {key: values[back] for key, values in self.columns.items()}


def point(model: Prophet, ds: pd.DatetimeIndex) -> Point:
    """Prophet's trend, each seasonality, their sum and yhat at `ds`: its `predict` without
    the uncertainty samples."""
    order = np.argsort(ds.asi8, kind="stable")  # Prophet sorts by ds with a stable sort
    dates = ds[order]
    t = scaled_times(dates, model.start, model.t_scale)
    y_scale = float(model.y_scale)
    params = model.params
    beta = params["beta"][:1]
    k, m, deltas = params["k"][0], params["m"][0], params["delta"][0]
    expected = model.piecewise_linear(t, deltas, k, m, model.changepoints_t)
    out: dict[str, np.ndarray] = {"trend": expected * y_scale}
    x, spans = seasonal_features(model, dates)
    for name, span in spans.items():
        out[name] = _component(x, beta, span) * y_scale
    additive = _component(x, beta, list(spans.values())) * y_scale if spans else np.zeros(len(t))
    out["additive_terms"] = additive
    out["yhat"] = out["trend"] * (1 + np.zeros(len(t))) + additive
    return Point(order, t, expected, out)


def components(model: Prophet, ds: pd.DatetimeIndex) -> dict[str, np.ndarray]:
    """ "trend" and each seasonality at `ds` (in that order), as `predict` gives them."""
    forecast = point(model, ds)
    forecast.columns = {name: forecast.columns[name] for name in ("trend", *model.seasonalities)}
    return forecast.in_asked_order()


def predict(
    model: Prophet,
    ds: pd.DatetimeIndex,
    interval_width: float,
    seed: int,
    levels: Sequence[float] = (),
) -> dict[str, np.ndarray]:
    """The forecast columns for `ds` (any order; rows come back in that order), and each
    central level's (percent) band from the same samples of yhat (`level_columns`)."""
    forecast = point(model, ds)
    out, t, expected = forecast.columns, forecast.t, forecast.expected
    y_scale = float(model.y_scale)
    for name in [*model.seasonalities, "additive_terms"]:
        out[name + "_lower"] = out[name + "_upper"] = out[name]

    rng = np.random.RandomState(seed)
    n_samples = int(model.uncertainty_samples)
    trends = np.tile(expected, (n_samples, 1)) + _trend_uncertainty(model, t, n_samples, rng)
    trends = trends * y_scale + np.zeros(len(t))
    noise = rng.normal(0, model.params["sigma_obs"][0], trends.shape) * y_scale
    sims = trends + out["additive_terms"] + noise  # Prophet's `* (1 + 0)` changes no bit
    for key, values in (("yhat", sims), ("trend", trends)):
        # sorted first: the same order statistics, so the same percentiles, found faster
        ordered = np.sort(values, axis=0)
        out[key + "_lower"], out[key + "_upper"] = _band(ordered, interval_width)
        if key == "yhat":
            out.update(level_columns(ordered, levels))
    return forecast.in_asked_order()


def _band(ordered: np.ndarray, width: float) -> np.ndarray:
    """The central `width` (a fraction) of each column's samples (sorted), as Prophet takes it."""
    lower, upper = 100 * (1.0 - width) / 2, 100 * (1.0 + width) / 2
    return np.percentile(ordered, [lower, upper], axis=0)


def level_columns(ordered: np.ndarray, levels: Sequence[float]) -> dict[str, np.ndarray]:
    """Each level's band (percent) from the samples (sorted, samples x rows), under its keys:
    percentiles of the same samples as the band, by the same rule, so they are nested and a
    level equal to the interval width gives the band. With 1,000 samples, a level above 99.8
    falls between the two most extreme draws (numpy's linear interpolation) and no level goes
    beyond them: the draws cannot tell such tails apart."""
    out = {}
    for level in levels:
        lower_key, upper_key = level_keys(level)
        out[lower_key], out[upper_key] = _band(ordered, level / 100)
    return out
