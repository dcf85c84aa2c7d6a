"""Prophet's model for the fast engine, built from the dates with numpy: no DataFrame, no pandas
step per feature, no uncertainty draws where nothing uses them.

`Prophet().fit` spends most of its time before the optimizer: it builds a DataFrame, sorts it,
scales `y` and `t`, decides its seasonalities, makes their Fourier features through pandas and
places its changepoints. `inputs` makes the same Stan data from the rows with the same
floating-point operations (its tests hold every piece equal to Prophet's own), `fit` solves it
with `fastfit.py` and returns a `Fitted`: the attributes of a fitted Prophet that `predict.py`
reads, so the forecast is the one Prophet's path of the fast engine gives, to the bit.

What it reproduces, for Prophet's defaults (linear growth, additive seasonality, 25
changepoints in the first 80% of the history, `absmax` scaling, no holidays or regressors):

- the history: the rows whose `y` is not NaN, sorted by date with a stable sort;
- scaling: `y_scale = max |y|` (1 when that is 0), `start` the first date, `t_scale` the span,
  `t = (ds - start) / t_scale`, `y_scaled = y / y_scale`;
- seasonalities: yearly (order 10) when the history spans 730 days or more, weekly (order 3)
  when it spans two weeks and some step is under a week, daily (order 4) when it spans two days
  and some step is under a day; with none, Prophet's placeholder column of zeros;
- changepoints: at rows `linspace(0, h - 1, 26).round()` (the first dropped) of the first
  `h = floor(0.8 T)` rows, fewer when `h` is small, one at t = 0 that cannot act when none fit;
- after the fit: a constant history keeps Prophet's initial point, and without changepoints the
  change of slope is folded into `k`, as `Prophet.fit` does.

A `Rows` object holds what depends on the dates alone (days since the epoch, the Fourier
features of every row): the folds of a backtest, each a prefix of the rows, share it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tickercast.model.prophet_seam import fastfit
from tickercast.model.prophet_seam.predict import epoch_days, fourier_series

N_CHANGEPOINTS = 25
CHANGEPOINT_RANGE = 0.8
CHANGEPOINT_PRIOR_SCALE = 0.05
SEASONALITY_PRIOR_SCALE = 10.0
UNCERTAINTY_SAMPLES = 1000
NS_PER_DAY = 24 * 60 * 60 * 10**9

# Prophet's automatic seasonalities: name, period in days, Fourier order, and the least span
# and the step (in days) that turn it on: a span at least that long, and some step shorter.
SEASONALITIES = (
    ("yearly", 365.25, 10, 730, None),
    ("weekly", 7, 3, 14, 7),
    ("daily", 1, 4, 2, 1),
)


class Unsupported(ValueError):
    """Rows this path does not reproduce Prophet on (every usable row on one date)."""


@dataclass
class Rows:
    """What the dates alone decide, for one request's rows: the folds of a backtest (prefixes
    of the rows) and the dates they predict share it. Thread-safe: a fold fitted on another
    thread at the same time may compute a block twice, never a wrong one."""

    ns: np.ndarray  # the dates, nanoseconds since the epoch, in the request's order
    days: np.ndarray = field(init=False)
    _features: dict[tuple[float, int], np.ndarray] = field(init=False, default_factory=dict)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.days = epoch_days(pd.DatetimeIndex(self.ns.view("datetime64[ns]")))

    @classmethod
    def of(cls, ds: pd.DatetimeIndex) -> Rows:
        return cls(np.asarray(ds.as_unit("ns").asi8))

    def covers(self, ds: pd.DatetimeIndex) -> bool:
        """Whether `ds` are this object's first rows."""
        ns = ds.as_unit("ns").asi8
        return len(ns) <= len(self.ns) and bool(np.array_equal(ns, self.ns[: len(ns)]))

    def fourier(self, rows: np.ndarray, period: float, order: int) -> np.ndarray:
        """`fourier_series` of the rows at positions `rows`, from the block of every row."""
        key = (period, order)
        with self._lock:
            block = self._features.get(key)
        if block is None:
            block = fourier_series(self.days, period, order)
            with self._lock:
                self._features[key] = block
        return block[rows]


@dataclass
class Fitted:
    """What `predict.py` reads of a fitted Prophet, for a model fitted here."""

    start: pd.Timestamp
    t_scale: pd.Timedelta
    y_scale: float
    changepoints_t: np.ndarray
    seasonalities: dict[str, dict[str, Any]]
    history: dict[str, np.ndarray]  # "t": the history's scaled times
    params: dict[str, np.ndarray] = field(default_factory=dict)
    uncertainty_samples: int = UNCERTAINTY_SAMPLES

    @staticmethod
    def piecewise_linear(
        t: np.ndarray, deltas: np.ndarray, k: float, m: float, changepoint_ts: np.ndarray
    ) -> np.ndarray:
        from prophet import Prophet

        return Prophet.piecewise_linear(t, deltas, k, m, changepoint_ts)


@dataclass
class Inputs:
    """Prophet's Stan data for the rows, its initial params, and the model around them before
    the fit."""

    stan_data: dict[str, Any]
    init: dict[str, Any]
    model: Fitted
    constant: bool  # every usable y equal: Prophet skips the optimizer
    changepoints: bool  # any placed (else one at t = 0 that the fit folds into k)


def history_order(ns: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Positions of the history's rows in Prophet's order: the usable rows, sorted by date
    with a stable sort (rows on the same date keep their order), as Prophet sorts them."""
    usable = np.flatnonzero(~np.isnan(y))
    return usable[np.argsort(ns[usable], kind="stable")]


def auto_seasonalities(ns: np.ndarray) -> dict[str, dict[str, Any]]:
    """Prophet's automatic seasonalities for the history's sorted dates `ns` (nanoseconds;
    compared as integers, as Prophet compares its Timedeltas)."""
    span = int(ns[-1] - ns[0])
    steps = np.diff(ns)
    steps = steps[steps != 0]
    step = int(steps.min()) if len(steps) else None
    return {
        name: {
            "period": period,
            "fourier_order": order,
            "prior_scale": SEASONALITY_PRIOR_SCALE,
            "mode": "additive",
            "condition_name": None,
        }
        for name, period, order, least_span, under in SEASONALITIES
        if span >= least_span * NS_PER_DAY
        and (under is None or (step is not None and step < under * NS_PER_DAY))
    }


def changepoint_rows(n: int) -> np.ndarray:
    """The history rows Prophet places its changepoints at (none when too few rows)."""
    size = int(np.floor(n * CHANGEPOINT_RANGE))
    count = min(N_CHANGEPOINTS, size - 1)
    if count <= 0:
        return np.zeros(0, dtype=int)
    return np.linspace(0, size - 1, count + 1).round().astype(int)[1:]


def seasonal_matrix(
    rows: Rows, at: np.ndarray, seasonalities: dict[str, dict[str, Any]]
) -> np.ndarray:
    """The Fourier features of the rows at positions `at`, column-major as Prophet's frame;
    Prophet's placeholder column of zeros when nothing is seasonal."""
    blocks = [rows.fourier(at, s["period"], s["fourier_order"]) for s in seasonalities.values()]
    if not blocks:
        return np.zeros((len(at), 1))
    return np.asfortranarray(np.hstack(blocks))


def inputs(rows: Rows, n: int, y: np.ndarray) -> Inputs:
    """Prophet's Stan data, initial params and unfitted model for the first `n` rows of
    `rows`, values `y` (NaN where missing)."""
    order = history_order(rows.ns[:n], y)
    ns, values = rows.ns[order], y[order]
    if len(ns) < 2 or ns[-1] == ns[0]:
        raise Unsupported("the usable rows need at least two dates")
    start, t_scale = pd.Timestamp(ns[0], unit="ns"), pd.Timedelta(int(ns[-1] - ns[0]), unit="ns")
    t = (ns - ns[0]) / (ns[-1] - ns[0])
    y_scale = float(np.abs(values).max()) or 1.0
    y_scaled = values / y_scale
    seasonalities = auto_seasonalities(ns)
    x = seasonal_matrix(rows, order, seasonalities)
    k = x.shape[1]
    placed = changepoint_rows(len(t))
    changepoints_t = t[placed] if len(placed) else np.array([0])
    stan_data = {
        "T": len(t),
        "S": len(changepoints_t),
        "K": k,
        "tau": CHANGEPOINT_PRIOR_SCALE,
        "trend_indicator": 0,
        "y": y_scaled,
        "t": t,
        "t_change": changepoints_t,
        "X": x,
        "sigmas": [SEASONALITY_PRIOR_SCALE if seasonalities else 1.0] * k,
        "s_a": np.full(k, 1.0 if seasonalities else 0.0),
        "s_m": np.zeros(k),
        "cap": np.zeros(len(t)),
    }
    # Prophet's `linear_growth_init`: through the first row and the first row of the last date
    last = int(np.argmax(ns))
    slope = (y_scaled[last] - y_scaled[0]) / (t[last] - t[0])
    init = {
        "k": slope,
        "m": y_scaled[0] - slope * t[0],
        "delta": np.zeros_like(changepoints_t),
        "beta": np.zeros(k),
        "sigma_obs": 1.0,
    }
    model = Fitted(start, t_scale, y_scale, changepoints_t, seasonalities, {"t": t})
    return Inputs(stan_data, init, model, bool(values.min() == values.max()), len(placed) > 0)


def fit(rows: Rows, n: int, y: np.ndarray, hold: str = fastfit.HOLD_THETA) -> Fitted:
    """Default Prophet fitted to the first `n` rows (`y` NaN where missing) by the in-process
    solver, as `forecasting.fit_fast` fits it."""
    made = inputs(rows, n, y)
    if made.constant:  # Prophet keeps its initial point
        init = made.init | {"sigma_obs": 1e-9}
        params = {name: np.array(value).reshape((1, -1)) for name, value in init.items()}
    else:
        params = fastfit.optimize(made.stan_data, made.init, hold)
    if not made.changepoints:
        params["k"] = params["k"] + params["delta"].reshape(-1)
        params["delta"] = np.zeros(params["delta"].shape).reshape((-1, 1))
    made.model.params = params
    return made.model
