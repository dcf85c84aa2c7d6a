"""Fitting Prophet to one request and predicting the rows the contract asks for.

Pure functions on a checked `ForecastRequest`; nothing here knows about HTTP. Two facts shape it:

- Prophet draws its uncertainty samples from the global `numpy.random` state and takes no seed.
  `predict` therefore runs under one process-wide lock, seeded from the request, so concurrent
  requests in one process cannot interleave their draws and every worker draws the same numbers.
- cmdstanpy leaves each fit's CSV and log in a temp folder until the process exits. Every fit
  writes into its own `TemporaryDirectory`, removed when the fit is done, so disk use stays flat.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tickercast.calendars import future_dates
from tickercast.contract import ForecastRequest
from tickercast.model.columns import contract_columns

if TYPE_CHECKING:
    from prophet import Prophet

_PREDICT_LOCK = threading.Lock()


class FitTimeout(Exception):
    """CmdStan ran past its time limit and was stopped."""


def load_prophet() -> str:
    """Import Prophet, quieten its chatty loggers, and return its version."""
    for name in ("cmdstanpy", "prophet", "prophet.plot"):
        logging.getLogger(name).disabled = True
    import prophet

    return str(prophet.__version__)


def history_frame(req: ForecastRequest) -> pd.DataFrame:
    return pd.DataFrame({"ds": req.ds, "y": req.y})


def fit(req: ForecastRequest, timeout: float | None = None) -> Prophet:
    """Prophet with default settings fitted to the request's rows."""
    from prophet import Prophet

    model = Prophet(interval_width=req.interval_width)
    with tempfile.TemporaryDirectory(prefix="tickercast-fit-") as out:
        try:
            model.fit(history_frame(req), output_dir=out, timeout=timeout)
        except TimeoutError as exc:
            raise FitTimeout(str(exc)) from None
    return model


def prediction_dates(req: ForecastRequest) -> pd.DatetimeIndex:
    future = future_dates(req.ds.max(), req.periods, req.freq)
    if len(future) < req.periods:
        raise ValueError(f"the calendar {req.freq} has only {len(future)} sessions ahead")
    if req.include_history:
        return req.ds.append(future)
    return future


def predict(model: Prophet, req: ForecastRequest) -> tuple[pd.DatetimeIndex, dict[str, Any]]:
    """The response's rows and columns; the samples are seeded from the request."""
    dates = prediction_dates(req)
    frame = pd.DataFrame({"ds": dates})
    model.interval_width = req.interval_width
    with _PREDICT_LOCK:
        np.random.seed(req.seed())
        forecast = model.predict(frame)
    return dates, contract_columns(forecast, model.seasonalities.keys())


def forecast(req: ForecastRequest, timeout: float | None = None) -> tuple[pd.DatetimeIndex, dict]:
    return predict(fit(req, timeout=timeout), req)
