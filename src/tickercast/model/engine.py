"""Engines turn a checked request into response bytes: real Prophet or the mock.

An engine also knows how to warm itself up (import Prophet, run one tiny fit) so `/readyz`
tells the truth, and names itself for the cache key, so a cached answer is never served by an
engine or Prophet version that did not make it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Protocol

import numpy as np
import pandas as pd

from tickercast import __version__
from tickercast.contract import ForecastRequest, encode_response, parse_request, rows_digest
from tickercast.model.calibrated import FitFunction, PointModel

# Bump when the computation changes in a way that changes answers (3: the fast fit is the
# default engine of every method).
ALGORITHM_VERSION = 3
# The fit engine of a request that names none.
DEFAULT_ENGINE = "fast"
# Bump when the in-process fit (`model/fastfit.py`) changes in a way that changes answers.
FAST_FIT_VERSION = 2


class Engine(Protocol):
    name: str

    def cache_tag(self, req: ForecastRequest) -> str: ...

    def release(self, req: ForecastRequest) -> str: ...

    def warm_up(self) -> None: ...

    def run(self, req: ForecastRequest) -> bytes: ...


def _body(req: ForecastRequest, dates: pd.DatetimeIndex, columns: dict[str, np.ndarray]) -> bytes:
    return encode_response(dates, columns, first_label=0 if req.include_history else req.n)


def requested_engine(req: ForecastRequest) -> str:
    """The fit engine for a request: its `engine` field when given (`"fast"`, in-process, or
    `"cmdstan"`, Prophet's own optimizer); else the fast one, for every method, as the
    contract says. The one place that reads that field."""
    return req.engine if req.engine is not None else DEFAULT_ENGINE


class MockEngine:
    name = f"mock-{ALGORITHM_VERSION}"

    def cache_tag(self, req: ForecastRequest) -> str:
        return self.name

    def release(self, req: ForecastRequest) -> str:
        return f"mock/{__version__}"

    def warm_up(self) -> None:
        return None

    def run(self, req: ForecastRequest) -> bytes:
        from tickercast.model import mock

        return _body(req, *mock.forecast(req))


class FittedModels:
    """The last few fitted models of this process, by series: a new horizon, interval width or
    calendar for the same series only predicts. A miss refits to the very same model (the fit is
    deterministic), so workers with different contents still give the same answers."""

    def __init__(self, max_items: int) -> None:
        self.max_items = max_items
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Any | None:
        with self._lock:
            model = self._items.get(key)
            if model is not None:
                self._items.move_to_end(key)
            return model

    def put(self, key: str, model: Any) -> None:
        with self._lock:
            self._items[key] = model
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)


class ProphetEngine:
    """Prophet's own forecast, or the calibrated one (`method`), whose fits come from
    the engine the request asks for (`requested_engine`)."""

    def __init__(self, fit_timeout: float | None = None, fitted_models: int = 16) -> None:
        self.fit_timeout = fit_timeout
        self.name = f"prophet-unloaded-{ALGORITHM_VERSION}"
        self.fits = FittedModels(fitted_models)

    def warm_up(self) -> None:
        from tickercast.model import forecasting

        version = forecasting.load_prophet()
        self.name = f"prophet-{version}-{ALGORITHM_VERSION}"
        days = pd.date_range("2024-01-01", periods=30, freq="D")
        sample = {"ds": [str(d) for d in days], "y": list(np.sin(np.arange(30.0))), "periods": 2}
        self.run(parse_request(sample))
        self.run(parse_request(sample), engine="fast")

    def cache_tag(self, req: ForecastRequest) -> str:
        """The version tag of this request's answer: CmdStan's answers keep the engine's name,
        the in-process fit's answers have a tag of their own."""
        if requested_engine(req) == "fast":
            return f"{self.name}-fast{FAST_FIT_VERSION}"
        return self.name

    def release(self, req: ForecastRequest) -> str:
        """The model's version as answers say it (`X-Model-Version`): the fit engine, then
        tickercast's release."""
        return f"{requested_engine(req)}/{__version__}"

    def run(self, req: ForecastRequest, engine: str | None = None) -> bytes:
        """The response to `req`, fitted by `engine` (default: the one the request asks for)."""
        from tickercast.model import calibrated, forecasting

        engine = engine or requested_engine(req)
        if req.method == "calibrated":
            dates = forecasting.prediction_dates(req)
            return _body(req, dates, calibrated.forecast(req, dates, self.fitter(engine)))
        key = f"{engine}:{req.series_digest()}"
        model = self.fits.get(key)
        if model is None:
            model = forecasting.fit(req, timeout=self.fit_timeout, engine=engine)
            self.fits.put(key, model)
        return _body(req, *forecasting.predict(model, req))

    def fitter(self, engine: str) -> FitFunction:
        """The calibrated forecast's fit function: `engine`'s fit, from this process's recent
        fits when it has the same rows."""
        from tickercast.model import forecasting

        def fit_rows(ds: pd.DatetimeIndex, y: np.ndarray) -> PointModel:
            key = f"{engine}:rows:{rows_digest(ds, y)}"
            model = self.fits.get(key)
            if model is None:
                model = forecasting.point_fit(engine, self.fit_timeout)(ds, y)
                self.fits.put(key, model)
            return model

        return fit_rows
