"""Engines choose how a checked request is answered: real Prophet or the mock.

The pipeline asks its engine once per request for the request's `Method`: the computation
(Prophet's own forecast or the calibrated one, and the fit engine behind it), the version tag
that goes into the cache key (so a cached answer is never served by an engine or Prophet
version that did not make it) and the release that answers name. An engine also knows how to
warm itself up (import Prophet, run one tiny fit) so `/readyz` tells the truth.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from tickercast import __version__
from tickercast.contract import (
    CALIBRATED,
    ForecastRequest,
    encode_response,
    level_keys,
    parse_request,
    rows_digest,
)
from tickercast.runtime.lru import LRU

# Bump when the computation changes in a way that changes answers (3: the fast fit is the
# default engine of every method; 4: the calibrated band's shape from the series' own changes).
ALGORITHM_VERSION = 4
# The fit engine of a request that names none.
DEFAULT_ENGINE = "fast"
# Bump when the in-process fit (`prophet_seam/fastfit.py`) changes in a way that changes
# answers.
FAST_FIT_VERSION = 2


@dataclass(frozen=True)
class Method:
    """How one request is answered, chosen once for it (`Engine.method`)."""

    tag: str  # the version tag of its answers, part of their cache key
    release: str  # the fit engine and release, as answers name them (`X-Model-Version`)
    forecast: Callable[[ForecastRequest], dict[str, np.ndarray]]  # value columns at req.dates


class Engine(Protocol):
    name: str

    def warm_up(self) -> None: ...

    def method(self, req: ForecastRequest) -> Method: ...


def forecast_body(method: Method, req: ForecastRequest) -> bytes:
    """The forecast's response body: `method`'s columns at the request's dates (each level's
    too, nested: `nested`), encoded."""
    columns = nested(method.forecast(req), req.levels)
    first = 0 if req.include_history else req.n
    return encode_response(req.dates, columns, first_label=first, levels=req.levels)


def nested(columns: dict[str, np.ndarray], levels: Sequence[float]) -> dict[str, np.ndarray]:
    """The columns with each level's band (`levels` increasing) widened where needed to hold
    the band of the level below it, at every row: a wider level is never inside a narrower one.
    The methods' bands are nested already (quantiles of one distribution); this holds them to
    it whatever rounding does."""
    out = dict(columns)
    below: tuple[np.ndarray, np.ndarray] | None = None
    for level in levels:
        lo_key, hi_key = level_keys(level)
        lower, upper = out[lo_key], out[hi_key]
        if below is not None:
            lower, upper = np.minimum(lower, below[0]), np.maximum(upper, below[1])
        out[lo_key], out[hi_key] = below = lower, upper
    return out


def with_levels(
    columns: dict[str, np.ndarray], bands: Mapping[float, tuple[np.ndarray, np.ndarray]]
) -> dict[str, np.ndarray]:
    """The columns and each level's band under its keys (`contract.level_keys`)."""
    out = dict(columns)
    for level, (lower, upper) in bands.items():
        lo_key, hi_key = level_keys(level)
        out[lo_key], out[hi_key] = lower, upper
    return out


def requested_engine(req: ForecastRequest) -> str:
    """The fit engine for a request: its `engine` field when given (`"fast"`, in-process, or
    `"cmdstan"`, Prophet's own optimizer); else the fast one, for every method, as the
    contract says. The one place that reads that field."""
    return req.engine if req.engine is not None else DEFAULT_ENGINE


class MockEngine:
    name = f"mock-{ALGORITHM_VERSION}"

    def warm_up(self) -> None:
        return None

    def method(self, req: ForecastRequest) -> Method:
        return Method(self.name, f"mock/{__version__}", self.forecast)

    def forecast(self, req: ForecastRequest) -> dict[str, np.ndarray]:
        from tickercast.model import mock

        return mock.forecast(req)


def _rows_of(ds: pd.DatetimeIndex) -> Any:
    """What the dates of a request's rows alone decide for the fast fit: made once per
    request, on first use, and shared by the folds of a backtest (prefixes of its rows)."""
    from tickercast.model.prophet_seam.design import Rows

    return Rows.of(ds)


class ProphetEngine:
    """Prophet's own forecast, or the calibrated one (`method`), whose fits come from
    the engine the request asks for (`requested_engine`).

    It keeps the last few fitted models of this process (`fits`), by fit engine, kind and
    rows: a new horizon, interval width or calendar for the same series only predicts. A miss
    refits to the very same model (the fit is deterministic), so workers with different
    contents still give the same answers."""

    def __init__(self, fit_timeout: float | None = None, fitted_models: int = 16) -> None:
        self.fit_timeout = fit_timeout
        self.name = f"prophet-unloaded-{ALGORITHM_VERSION}"
        self.fits: LRU[str, Any] = LRU(fitted_models)

    def warm_up(self) -> None:
        from tickercast.model.prophet_seam import forecasting

        version = forecasting.load_prophet()
        self.name = f"prophet-{version}-{ALGORITHM_VERSION}"
        days = pd.date_range("2024-01-01", periods=30, freq="D")
        sample = {"ds": [str(d) for d in days], "y": list(np.sin(np.arange(30.0))), "periods": 2}
        self.run(parse_request(sample))
        self.run(parse_request(sample), engine="fast")

    def run(self, req: ForecastRequest, engine: str | None = None) -> bytes:
        """The response to `req`, fitted by `engine` (default: the one the request asks for)."""
        return forecast_body(self.method(req, engine), req)

    def method(self, req: ForecastRequest, fit_engine: str | None = None) -> Method:
        """The request's method, fitted by `fit_engine` (default: the one the request asks
        for). CmdStan's answers keep the engine's name as their tag, the in-process fit's
        answers have a tag of their own."""
        fit_engine = fit_engine or requested_engine(req)
        tag = f"{self.name}-fast{FAST_FIT_VERSION}" if fit_engine == "fast" else self.name
        computed = self._calibrated if req.method == CALIBRATED else self._prophet
        rows = functools.cache(functools.partial(_rows_of, req.ds))
        return Method(
            tag, f"{fit_engine}/{__version__}", functools.partial(computed, fit_engine, rows)
        )

    def _prophet(
        self, fit_engine: str, rows: Callable[[], Any], req: ForecastRequest
    ) -> dict[str, np.ndarray]:
        from tickercast.model.prophet_seam import forecasting

        def fit() -> Any:
            shared = rows() if fit_engine == "fast" else None
            return forecasting.fit(req.ds, req.y, fit_engine, self.fit_timeout, rows=shared)

        model = self._fitted(f"{fit_engine}:{req.series_digest()}", fit)
        return forecasting.forecast_columns(
            model, req.dates, req.interval_width, req.seed(), req.levels
        )

    def _calibrated(
        self, fit_engine: str, rows: Callable[[], Any], req: ForecastRequest
    ) -> dict[str, np.ndarray]:
        from tickercast.model import calibrated
        from tickercast.model.prophet_seam import forecasting

        def point_fit(ds: pd.DatetimeIndex, z: np.ndarray) -> calibrated.PointModel:
            def fit() -> Any:
                shared = rows() if fit_engine == "fast" else None
                return forecasting.point_fit(ds, z, fit_engine, self.fit_timeout, shared)

            return self._fitted(f"{fit_engine}:point:{rows_digest(ds, z)}", fit)

        columns, bands = calibrated.forecast_levels(req, point_fit, req.levels)
        return with_levels(columns, bands)

    def _fitted(self, key: str, fit: Callable[[], Any]) -> Any:
        """The model under `key` from this process's recent fits, else fitted and kept."""
        model = self.fits.get(key)
        if model is None:
            model = fit()
            self.fits.put(key, model)
        return model
