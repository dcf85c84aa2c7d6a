"""Prophet's model built from the dates with numpy (`design.py`): every piece equals Prophet's
own (its `setup_dataframe`, `make_all_seasonality_features`, `preprocess` and `predict`) on
trading-day, calendar-day and gappy histories, the fast engine's answers are those of Prophet's
own preprocessing fitted by the same solver, to the bit, and a backtest's folds share the dates'
features and answer as single requests do."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.support.prices import adj_close, request_body
from tickercast.contract import least_training_rows, parse_backtest_request, parse_request
from tickercast.model import backtesting
from tickercast.model.engine import ProphetEngine, forecast_body
from tickercast.model.prophet_seam import design, fastfit, forecasting
from tickercast.model.prophet_seam.predict import components, predict

CLOSE = {"rtol": 0.0, "atol": 1e-9}


def trading_days(rows: int) -> tuple[pd.DatetimeIndex, np.ndarray]:
    frame = adj_close("AAPL", rows)
    return pd.DatetimeIndex(frame["ds"]), frame["y"].to_numpy()


def calendar_days(rows: int) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Every day, weekends carried forward (as some providers send)."""
    ds, y = trading_days(rows)
    every = pd.date_range(ds[0], ds[-1], freq="D")
    return every, pd.Series(y, index=ds).reindex(every).ffill().to_numpy()


def gappy(rows: int) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Sessions with a month missing, and missing values (NaN) at both ends and inside."""
    ds, y = trading_days(rows)
    keep = np.r_[0 : rows // 3, rows // 3 + 22 : rows]
    ds, y = ds[keep], y[keep].copy()
    y[[0, 5, len(y) // 2, len(y) - 1]] = np.nan
    return ds, y


HISTORIES = {
    # trading days: weekly, and yearly from two years on
    "sessions, 100": trading_days(100),
    "sessions, 600": trading_days(600),
    "calendar days, 800 sessions": calendar_days(800),
    "sessions with a gap and NaNs, 300": gappy(300),
    "two dates": (pd.DatetimeIndex(["2021-01-04", "2021-01-05"]), np.array([3.0, 4.0])),
    "five rows, constant": (pd.bdate_range("2021-01-04", periods=5), np.full(5, 7.5)),
    "repeated dates, unsorted": (
        pd.DatetimeIndex(["2021-01-06", "2021-01-05", "2021-01-05", "2021-01-04"] * 5),
        np.arange(20.0) % 7 + 1,
    ),
    "weekly steps over three years": (
        pd.date_range("2019-01-07", periods=160, freq="W-MON"),
        np.linspace(10, 20, 160),
    ),
}


def prophet_inputs(ds: pd.DatetimeIndex, y: np.ndarray) -> tuple[Any, Any]:
    """Plain Prophet, preprocessed on the rows as its fit does: the model and its Stan inputs."""
    from prophet import Prophet

    forecasting.load_prophet()
    model = Prophet()
    return model, model.preprocess(forecasting.history_frame(ds, y))


@pytest.mark.parametrize("history", list(HISTORIES))
def test_the_stan_data_is_prophets_own(history: str) -> None:
    ds, y = HISTORIES[history]
    theirs_model, theirs = prophet_inputs(ds, y)
    ours = design.inputs(design.Rows.of(ds), len(ds), y)
    for name, value in dataclasses.asdict(theirs).items():
        mine = np.asarray(ours.stan_data[name])
        assert np.array_equal(mine, np.asarray(value)), name  # the bits that keep the answers
    model = ours.model
    assert (model.start, model.t_scale, model.y_scale) == (
        theirs_model.start,
        theirs_model.t_scale,
        theirs_model.y_scale,
    )
    assert np.array_equal(model.changepoints_t, theirs_model.changepoints_t)
    assert model.seasonalities == theirs_model.seasonalities
    assert np.array_equal(model.history["t"], theirs_model.history["t"].to_numpy())
    init = dataclasses.asdict(theirs_model.calculate_initial_params(theirs.K))
    assert ours.init.keys() == init.keys()
    for name, value in init.items():
        assert np.array_equal(ours.init[name], value), name
    constant = theirs_model.history["y"].min() == theirs_model.history["y"].max()
    assert ours.constant == constant


@pytest.mark.parametrize(
    "history", ["sessions, 600", "calendar days, 800 sessions", "sessions with a gap and NaNs, 300"]
)
def test_scaled_values_and_features_match_prophets_frames_to_1e_9(history: str) -> None:
    """Against the two steps of Prophet's that make them: `setup_dataframe` (t, y_scaled) and
    `make_all_seasonality_features` (the feature matrix, prior scales, additive columns), and
    the design matrix Z = [1, t, changepoint ramps, X] the solver builds from them."""
    ds, y = HISTORIES[history]
    model, _ = prophet_inputs(ds, y)
    frame = forecasting.history_frame(ds, y)
    history_frame = model.setup_dataframe(frame[frame["y"].notnull()].copy())
    features, scales, columns, _ = model.make_all_seasonality_features(history_frame)
    ours = design.inputs(design.Rows.of(ds), len(ds), y).stan_data
    np.testing.assert_allclose(ours["t"], history_frame["t"], **CLOSE)
    np.testing.assert_allclose(ours["y"], history_frame["y_scaled"], **CLOSE)
    np.testing.assert_allclose(ours["X"], features.to_numpy(), **CLOSE)
    np.testing.assert_allclose(ours["sigmas"], scales, **CLOSE)
    np.testing.assert_allclose(ours["s_a"], columns["additive_terms"], **CLOSE)
    theirs = {"t": history_frame["t"], "t_change": model.changepoints_t}
    theirs |= {"X": features, "s_a": columns["additive_terms"]}
    np.testing.assert_allclose(fastfit.design(ours), fastfit.design(theirs), **CLOSE)
    assert features.shape[1] == ours["K"] > 1


def prophets_path(ds: pd.DatetimeIndex, y: np.ndarray, hold: str) -> Any:
    """The fast engine as it was: Prophet's own preprocessing, the in-process solver."""
    model = forecasting._in_process_prophet()()
    model.stan_backend.hold = hold
    model.fit(forecasting.history_frame(ds, y))
    return model


@pytest.mark.slow
@pytest.mark.parametrize(
    ("history", "hold"),
    [
        (name, (fastfit.HOLD_THETA, fastfit.HOLD_SEASONALITY)[i % 2])
        for i, name in enumerate(HISTORIES)
    ],
)
def test_the_fit_and_forecast_are_prophets_preprocessing_fitted_alike_to_the_bit(
    history: str, hold: str
) -> None:
    """Prophet's own `fit` with the in-process backend (the fast engine before `design.py`)
    against the fit from the dates: the same params and forecast columns, to the bit."""
    ds, y = HISTORIES[history]
    forecasting.load_prophet()
    theirs = prophets_path(ds, y, hold)
    ours = forecasting.fit_fast(ds, y, hold)
    assert isinstance(ours, design.Fitted)
    assert theirs.params.keys() == ours.params.keys()
    for name, value in theirs.params.items():
        assert np.array_equal(ours.params[name], value), name
        assert ours.params[name].shape == value.shape, name
    future = pd.date_range(ds[-1] + pd.Timedelta(days=1), periods=15, freq="D")
    dates = ds.append(future)
    for seed in (0, 7):
        mine = forecasting.forecast_columns(ours, dates, 0.8, seed)
        expected = forecasting.forecast_columns(theirs, dates, 0.8, seed)
        for column, values in expected.items():
            assert np.array_equal(mine[column], values), column
    assert forecasting.point_model(ours)(dates).keys() == {"trend", *theirs.seasonalities}


def with_params(ds: pd.DatetimeIndex, y: np.ndarray, params: dict[str, np.ndarray]) -> Any:
    """Plain Prophet set up on the rows as its fit sets itself up, with `params` as its fit."""
    model, _ = prophet_inputs(ds, y)
    model.params = params
    return model


@pytest.mark.slow
@pytest.mark.parametrize(
    "history", ["sessions, 600", "calendar days, 800 sessions", "sessions with a gap and NaNs, 300"]
)
def test_the_prediction_is_prophets_own_predict(history: str) -> None:
    """A model fitted here, predicted by us and by Prophet's `predict` with its params: the
    components to 1e-9 without the uncertainty draws, every column to the bit with them."""
    ds, y = HISTORIES[history]
    ours = forecasting.fit_fast(ds, y)
    model = with_params(ds, y, ours.params)
    future = pd.bdate_range(ds[-1] + pd.Timedelta(days=1), periods=20)
    dates = ds.append(future)
    np.random.seed(3)
    theirs = model.predict(pd.DataFrame({"ds": dates}))
    points = components(ours, dates)
    assert points.keys() == {"trend", *model.seasonalities}
    for name, values in points.items():
        np.testing.assert_allclose(values, theirs[name], **CLOSE)
    full = predict(ours, dates, 0.8, 3)
    for name in ("yhat", "additive_terms", "yhat_lower", "yhat_upper", "trend_upper"):
        assert np.array_equal(full[name], theirs[name].to_numpy()), name


def test_the_point_components_skip_the_draws_and_keep_the_bits() -> None:
    ds, y = HISTORIES["calendar days, 800 sessions"]
    model = forecasting.fit_fast(ds, y, fastfit.HOLD_SEASONALITY)
    dates = pd.date_range(ds[-1], periods=30, freq="D")[::-1]  # any order
    full = predict(model, dates, 0.8, 0)
    points = components(model, dates)
    assert list(points) == ["trend", "yearly", "weekly"]
    for name, values in points.items():
        assert np.array_equal(values, full[name]), name


def test_rows_of_other_dates_are_not_used() -> None:
    ds, y = HISTORIES["sessions, 600"]
    other = design.Rows.of(ds[1:].append(pd.DatetimeIndex([ds[-1] + pd.Timedelta(days=3)])))
    assert not other.covers(ds) and design.Rows.of(ds).covers(ds[:10])
    alone = forecasting.fit_fast(ds[:400], y[:400])
    for rows in (other, design.Rows.of(ds)):
        shared = forecasting.fit_fast(ds[:400], y[:400], rows=rows)
        for name, value in alone.params.items():
            assert np.array_equal(shared.params[name], value), name


@pytest.mark.parametrize("method", ["prophet", "calibrated"])
def test_backtest_folds_share_the_dates_and_answer_as_single_requests(
    method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The folds of one backtest (one method for all, as the pipeline asks) make the dates'
    features once, and each fold's bytes are those of the same request on a fresh worker
    (folds and single requests share cache entries)."""
    body = request_body("MSFT", 400, "k", method=method, horizon=10, cutoffs=4, freq="XNYS")
    bt = parse_backtest_request(body)
    least = least_training_rows(method)
    ends = backtesting.origins(bt.series.n, bt.horizon, bt.cutoffs, least)
    made: list[int] = []
    of = design.Rows.of.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(
        design.Rows, "of", classmethod(lambda cls, ds: made.append(len(ds)) or of(cls, ds))
    )
    engine = ProphetEngine()
    engine.warm_up()
    made.clear()
    method_of_backtest = engine.method(bt.series)
    folds = [forecast_body(method_of_backtest, bt.fold(end)) for end in ends]
    assert made == [bt.series.n]  # once, for the whole series
    for end, content in zip(ends, folds, strict=True):
        single = parse_request(
            {
                "ds": [str(d) for d in bt.series.ds[:end]],
                "y": list(bt.series.y[:end]),
                "periods": bt.horizon,
                "freq": "XNYS",
                "method": method,
            }
        )
        assert ProphetEngine().run(single) == content, end
