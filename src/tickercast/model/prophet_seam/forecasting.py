"""Fitting Prophet to a series' rows and predicting the rows the contract asks for.

Pure functions on rows and dates; nothing here knows about HTTP. Four facts shape it:

- Prophet draws its uncertainty samples from the global `numpy.random` state and takes no seed.
  `predict` (module `predict`) makes the same draws from a generator seeded from the request,
  so every worker draws the same numbers and concurrent requests cannot interleave them.
- cmdstanpy leaves each fit's CSV and log in a temp folder until the process exits. Every fit
  writes into its own `TemporaryDirectory`, removed when the fit is done, so disk use stays flat.
- Prophet hands CmdStan its data as a JSON file written value by value in Python (a third of
  a fit's time at a thousand rows). `_fast_backend` writes the same numbers with orjson straight
  from the arrays; the optimizer gets bit-identical input, so the answer is Prophet's own.
- Prophet rebuilds, with pandas pivot tables, which feature column belongs to which seasonality
  on every fit (a fifth of a fit at 250 rows). `_fast_prophet` remembers that small table per
  set of column names: it depends on nothing else for the models this service fits. It also
  makes the Fourier features with the same operations on arrays instead of pandas Series.

Two fit engines: `"cmdstan"` (Prophet's own fit, CmdStan's L-BFGS, with the preprocessing and
prediction above) and `"fast"` (`fit_fast`: the same MAP problem solved in this process,
`fastfit.py`; no subprocess, no files, a higher log posterior than L-BFGS reaches, so its
`yhat` is close to but not Prophet's own). The fast engine builds Prophet's model from the
dates with numpy (`design.py`: the same Stan data, to the bit, without Prophet's DataFrames),
and the calibrated forecast predicts only the point components, without the uncertainty
samples its band never uses.
"""

from __future__ import annotations

import functools
import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import orjson
import pandas as pd

from tickercast.contract import ENGINES, level_keys
from tickercast.model.prophet_seam import design
from tickercast.model.prophet_seam.columns import contract_columns
from tickercast.model.prophet_seam.predict import components as point_components
from tickercast.model.prophet_seam.predict import epoch_days, fourier_series
from tickercast.model.prophet_seam.predict import predict as predict_arrays
from tickercast.model.prophet_seam.versions import check_prophet

# What a fit returns and predict reads: a fitted `Prophet` (CmdStan's fit), or the same
# attributes of a model fitted from the dates (`design.Fitted`, the fast fit).
Model = Any


class FitTimeout(Exception):
    """CmdStan ran past its time limit and was stopped."""


def load_prophet() -> str:
    """Import Prophet, once its version is checked (`versions.py`), quieten its chatty loggers,
    and return its version."""
    check_prophet()
    for name in ("cmdstanpy", "prophet", "prophet.plot"):
        logging.getLogger(name).disabled = True
    import prophet

    return str(prophet.__version__)


def stan_json(payload: dict[str, Any]) -> bytes:
    """JSON for CmdStan, numpy arrays and DataFrames included, every float in full precision."""
    plain = {
        k: np.ascontiguousarray(v) if isinstance(v, pd.DataFrame | pd.Series | np.ndarray) else v
        for k, v in payload.items()
    }
    return orjson.dumps(plain, option=orjson.OPT_SERIALIZE_NUMPY)


@functools.cache
def _fast_backend() -> type:
    from prophet.models import CmdStanPyBackend

    class OrjsonCmdStanBackend(CmdStanPyBackend):
        """Prophet's CmdStan backend, its input files written with orjson."""

        def fit(self, stan_init: dict[str, Any], stan_data: dict[str, Any], **kwargs: Any) -> Any:
            folder = kwargs["output_dir"]
            data_path = os.path.join(folder, "data.json")
            init_path = os.path.join(folder, "init.json")
            with open(data_path, "wb") as f:
                f.write(stan_json(stan_data))
            with open(init_path, "wb") as f:
                f.write(stan_json(stan_init))
            # Prophet's own fit, with file paths in place of the dicts it would serialize.
            return super().fit(stan_init, stan_data, **kwargs, data=data_path, inits=init_path)

    return OrjsonCmdStanBackend


@functools.cache
def _fast_prophet() -> type:
    import copy

    from prophet import Prophet

    tables: dict[tuple[Any, ...], Any] = {}

    class RememberingProphet(Prophet):
        """Prophet, remembering its component table per set of feature columns, and making
        its Fourier features on arrays (the same operations, without a pandas step each)."""

        @staticmethod
        def fourier_series(dates: pd.Series, period: float, series_order: int) -> np.ndarray:
            return fourier_series(epoch_days(dates), period, series_order)

        def regressor_column_matrix(self, seasonal_features: Any, modes: Any) -> Any:
            plain = self.train_component_cols is None and not self.extra_regressors
            plain = plain and self.train_holiday_names is None
            if not plain:
                return super().regressor_column_matrix(seasonal_features, modes)
            key = (tuple(seasonal_features.columns), *(tuple(v) for v in modes.values()))
            if key not in tables:
                tables[key] = super().regressor_column_matrix(seasonal_features, modes)
            table, table_modes = tables[key]
            return table.copy(), copy.deepcopy(table_modes)

    return RememberingProphet


@functools.cache
def _in_process_prophet() -> type:
    from prophet.models import IStanBackend

    from tickercast.model.prophet_seam import fastfit

    class InProcessBackend(IStanBackend):
        """A Prophet stan backend that finds the MAP in this process (`fastfit.py`):
        no CmdStan, no subprocess, no files. `hold` says what the directions no row pins
        keep of Prophet's initial point."""

        hold = fastfit.HOLD_THETA

        @staticmethod
        def get_type() -> str:
            return "IN_PROCESS"

        def load_model(self) -> None:
            return None

        def fit(self, stan_init: dict[str, Any], stan_data: dict[str, Any], **kwargs: Any) -> Any:
            return fastfit.optimize(stan_data, stan_init, self.hold)

        def sampling(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("the in-process backend finds the MAP only (mcmc_samples=0)")

    class InProcessProphet(_fast_prophet()):  # type: ignore[misc]
        """Prophet's preprocessing and prediction, fitted by the in-process backend (which
        also spares the CmdStan model Prophet would load at construction)."""

        def _load_stan_backend(self, stan_backend: str | None) -> None:
            self.stan_backend = InProcessBackend()

    return InProcessProphet


def history_frame(ds: pd.DatetimeIndex, y: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"ds": ds, "y": y})


def fit(
    ds: pd.DatetimeIndex,
    y: np.ndarray,
    engine: str = "cmdstan",
    timeout: float | None = None,
    hold: str | None = None,
    rows: design.Rows | None = None,
) -> Model:
    """Prophet with default settings fitted to the rows (`y` NaN where missing), by CmdStan's
    optimizer (Prophet's own fit) or by the in-process solver of the same objective (`"fast"`,
    its silent directions held as `hold` says: `fit_fast`, which reads the dates' features from
    `rows` when given). The interval width is not part of a fit: `forecast_columns` takes it."""
    if engine == "fast":
        return fit_fast(ds, y, hold, rows)
    if engine != "cmdstan":
        raise ValueError(f"unknown fit engine {engine!r}; expected one of {ENGINES}")
    model = _fast_prophet()()
    model.stan_backend = _fast_backend()()
    with tempfile.TemporaryDirectory(prefix="tickercast-fit-") as out:
        try:
            model.fit(history_frame(ds, y), output_dir=out, timeout=timeout)
        except TimeoutError as exc:
            raise FitTimeout(str(exc)) from None
    return model


def fit_fast(
    ds: pd.DatetimeIndex, y: np.ndarray, hold: str | None = None, rows: design.Rows | None = None
) -> Model:
    """Prophet with default settings, its MAP found in-process (deterministic, no files); in
    the directions no row pins, θ stays at Prophet's initial point, as under CmdStan's
    optimizer, or, with `hold="seasonality"`, the seasonal terms do (`fastfit.py`).

    Prophet's model is built from the dates with numpy (`design.py`), the features of `rows`
    reused when `ds` are its first rows; rows it does not cover (every usable row on one date)
    go through Prophet's own preprocessing, with the same solver."""
    from tickercast.model.prophet_seam.fastfit import HOLD_THETA

    if rows is None or not rows.covers(ds):
        rows = design.Rows.of(ds)
    try:
        return design.fit(rows, len(ds), np.asarray(y, dtype=float), hold or HOLD_THETA)
    except design.Unsupported:
        model = _in_process_prophet()()
        if hold is not None:
            model.stan_backend.hold = hold
        model.fit(history_frame(ds, y))
        return model


def point_model(model: Model) -> Callable[[pd.DatetimeIndex], dict[str, np.ndarray]]:
    """A fitted model as a point model: dates in, "trend" and each seasonality out (Prophet's
    predict without its uncertainty samples, which the calibrated band does not use)."""
    return functools.partial(point_components, model)


def point_fit(
    ds: pd.DatetimeIndex,
    y: np.ndarray,
    engine: str = "cmdstan",
    timeout: float | None = None,
    rows: design.Rows | None = None,
) -> Callable[[pd.DatetimeIndex], dict[str, np.ndarray]]:
    """The calibrated forecast's fit: default Prophet fitted by `engine` as a point model; the
    fast fit keeps the seasonal terms at zero where no row pins them, so a day the history
    never has sits at the level of its neighbours instead of where CmdStan's start left it."""
    from tickercast.model.prophet_seam.fastfit import HOLD_SEASONALITY

    return point_model(fit(ds, y, engine, timeout, hold=HOLD_SEASONALITY, rows=rows))


def forecast_columns(
    model: Model,
    dates: pd.DatetimeIndex,
    interval_width: float,
    seed: int,
    levels: Sequence[float] = (),
) -> dict[str, np.ndarray]:
    """The contract's value columns at `dates`, the uncertainty samples drawn from `seed`, and
    each level's band (`predict.level_columns`) from the same samples."""
    forecast = predict_arrays(model, dates, interval_width, seed, levels)
    columns = contract_columns(forecast, model.seasonalities.keys())
    return {**columns, **{key: forecast[key] for lv in levels for key in level_keys(lv)}}
