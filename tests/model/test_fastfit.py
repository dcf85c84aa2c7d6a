"""The in-process fit: the exact optimum of Prophet's objective, checked against brute force on
small problems and against CmdStan on every embedded ticker."""

from __future__ import annotations

import dataclasses
import itertools
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.support.prices import adj_close, request_body
from tickercast import __version__
from tickercast.contract import ForecastRequest, parse_request
from tickercast.model.engine import ProphetEngine, requested_engine
from tickercast.model.prophet_seam import fastfit, forecasting

# --- the solver on small problems whose optimum is found by brute force ---


def brute_force_lasso(h: np.ndarray, b: np.ndarray, lam: float, l1: np.ndarray) -> np.ndarray:
    """Every sign pattern of the L1 coordinates (-, 0, +): the best consistent stationary point."""
    best, best_value = np.zeros(len(b)), np.inf
    l1_idx = np.flatnonzero(l1)
    for pattern in itertools.product((-1.0, 0.0, 1.0), repeat=len(l1_idx)):
        signs = np.zeros(len(b))
        signs[l1_idx] = pattern
        keep = np.flatnonzero(~l1 | (signs != 0))
        x = np.zeros(len(b))
        x[keep] = np.linalg.solve(h[np.ix_(keep, keep)], b[keep] - lam * signs[keep])
        if np.any(np.sign(x[l1_idx]) != signs[l1_idx]):
            continue
        value = 0.5 * x @ h @ x - b @ x + lam * np.abs(x[l1]).sum()
        if value < best_value:
            best, best_value = x, value
    return best


@pytest.mark.parametrize("seed", range(12))
def test_lasso_finds_the_brute_force_optimum(seed: int) -> None:
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(30, 6))
    z[:, 3] = z[:, 2] + 0.05 * rng.normal(size=30)  # two nearly collinear L1 columns
    h = z.T @ z + np.diag([0.1, 0.1, 0.0, 0.0, 0.0, 0.0])
    b = z.T @ (z @ rng.normal(size=6) + rng.normal(size=30))
    l1 = np.array([False, False, True, True, True, True])
    lam = float(rng.uniform(0.5, 20.0))
    expected = brute_force_lasso(h, b, lam, l1)
    for start in (None, rng.normal(size=6) * l1 + rng.normal(size=6) * ~l1):
        x = fastfit.solve_lasso(h, b, lam, l1, start)
        np.testing.assert_allclose(x, expected, rtol=1e-9, atol=1e-12)
        assert np.array_equal(x[l1] == 0, expected[l1] == 0)


def synthetic_stan_data(seed: int, rows: int = 60) -> dict[str, Any]:
    """Stan data shaped like Prophet's: two changepoints, two seasonal columns."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, rows)
    t_change = np.array([0.3, 0.6])
    x = np.column_stack([np.sin(2 * np.pi * 7 * t), np.cos(2 * np.pi * 7 * t)])
    y = 0.5 + 0.3 * t + 0.4 * np.maximum(t - 0.6, 0) + 0.05 * x[:, 0]
    y = y + rng.normal(scale=0.03, size=rows)
    return {
        "T": rows,
        "K": 2,
        "t": t,
        "cap": np.zeros(rows),
        "y": y,
        "S": 2,
        "t_change": t_change,
        "X": x,
        "sigmas": np.array([10.0, 10.0]),
        "tau": 0.05,
        "trend_indicator": 0,
        "s_a": np.ones(2),
        "s_m": np.zeros(2),
    }


def profile_brute_force(stan_data: dict[str, Any], sigma: float) -> float:
    """The best log posterior at a fixed sigma, the deltas' signs found by brute force."""
    prob = fastfit.problem(stan_data)
    v = sigma * sigma
    theta = brute_force_lasso(prob.gram + np.diag(v * prob.ridge), prob.zty, v / prob.tau, prob.l1)
    params = {
        "m": theta[:1],
        "k": theta[1:2],
        "delta": theta[2:4],
        "beta": theta[4:],
        "sigma_obs": np.array([sigma]),
    }
    return fastfit.log_posterior(params, stan_data)


@pytest.mark.parametrize("seed", range(4))
def test_joint_optimum_beats_a_brute_force_grid_over_sigma(seed: int) -> None:
    stan_data = synthetic_stan_data(seed)
    params = fastfit.optimize(stan_data)
    ours = fastfit.log_posterior(params, stan_data)
    sigma = float(params["sigma_obs"][0, 0])
    grid = sigma * np.exp(np.linspace(-0.5, 0.5, 41))
    profile = [profile_brute_force(stan_data, s) for s in grid]
    assert ours >= max(profile) - 1e-9
    # and the profile really peaks at our sigma: a step to either side loses
    assert profile[20] == pytest.approx(ours, abs=1e-8)
    assert profile[19] < ours and profile[21] < ours
    # sigma's stationarity condition, 4σ⁴ + Tσ² = RSS
    prob = fastfit.problem(stan_data)
    rss = float(
        np.sum((stan_data["y"] - params["trend"][0] - stan_data["X"] @ params["beta"][0]) ** 2)
    )
    assert 4 * sigma**4 + prob.rows * sigma**2 == pytest.approx(rss, rel=1e-8)


def test_answers_are_deterministic_and_shaped_like_cmdstans() -> None:
    stan_data = synthetic_stan_data(7, rows=200)
    first, second = fastfit.optimize(stan_data), fastfit.optimize(stan_data)
    assert first.keys() == second.keys() == {"k", "m", "delta", "sigma_obs", "beta", "trend"}
    for name in first:
        assert np.array_equal(first[name], second[name])
    shapes = {name: value.shape for name, value in first.items()}
    assert shapes == {
        "k": (1, 1),
        "m": (1, 1),
        "delta": (1, 2),
        "sigma_obs": (1, 1),
        "beta": (1, 2),
        "trend": (1, 200),
    }


def test_a_series_fitted_exactly_gets_a_finite_answer() -> None:
    # five rows and three changepoints, two of them with the same single row after them: the
    # objective grows without bound as σ → 0 and the changepoint columns are singular
    t = np.array([0.0, 1 / 6, 1 / 3, 5 / 6, 1.0])
    stan_data = synthetic_stan_data(0) | {
        "T": 5,
        "K": 1,
        "t": t,
        "cap": np.zeros(5),
        "y": np.array([0.97, 0.99, 1.0, 0.98, 0.985]),
        "S": 3,
        "t_change": np.array([1 / 6, 1 / 3, 5 / 6]),
        "X": np.zeros((5, 1)),
        "sigmas": np.array([10.0]),
        "s_a": np.ones(1),
        "s_m": np.zeros(1),
    }
    params = fastfit.optimize(stan_data)
    assert all(np.isfinite(value).all() for value in params.values())
    assert params["sigma_obs"][0, 0] > 0
    np.testing.assert_allclose(params["trend"][0], stan_data["y"], atol=1e-6)
    assert np.isfinite(fastfit.log_posterior(params, stan_data))


def test_unsupported_models_are_refused() -> None:
    logistic = synthetic_stan_data(0) | {"trend_indicator": 1}
    with pytest.raises(fastfit.UnsupportedModel, match="linear trend"):
        fastfit.optimize(logistic)
    multiplicative = synthetic_stan_data(0) | {"s_m": np.ones(2)}
    with pytest.raises(fastfit.UnsupportedModel, match="additive"):
        fastfit.optimize(multiplicative)


# --- against Prophet and CmdStan on real prices ---

TICKERS = ("AAPL", "GOOG", "IBM", "MSFT", "FB")
SIZES = (250, 1250, 2500)
PERIODS = 100
FREQS = ("D", "B", "XNYS")


def windows() -> list[tuple[str, int, str]]:
    """Every embedded ticker at every size it has (FB, 196 sessions, at its full length), as
    sessions; and two histories with holes: a calendar-day series (weekends carried forward, as
    some providers send) missing 40 days, and sessions missing 60."""
    out = []
    for ticker in TICKERS:
        have = len(adj_close(ticker, 10**6))
        out += [(ticker, rows, "sessions") for rows in SIZES if rows <= have]
        out += [] if have >= SIZES[0] else [(ticker, have, "sessions")]
    return out + [("AAPL", 400, "calendar days, a gap"), ("IBM", 500, "sessions, a gap")]


def history(ticker: str, rows: int, shape: str) -> dict[str, object]:
    frame = adj_close(ticker, rows)
    if shape.startswith("calendar days"):
        days = pd.date_range(frame["ds"].iloc[0], frame["ds"].iloc[-1], freq="D")
        frame = frame.set_index("ds").reindex(days).ffill().rename_axis("ds").reset_index()
        frame = frame.drop(frame.index[150:190])
    elif shape.endswith("a gap"):
        frame = frame.drop(frame.index[200:260])
    return {
        "key": "k",
        "ds": [str(ts.to_pydatetime()) for ts in frame["ds"]],
        "y": [str(v) for v in frame["y"]],
        "periods": PERIODS,
        "include_history": True,
    }


@dataclasses.dataclass
class Comparison:
    ours_lp: float
    cmdstan_lp: float
    cmdstan_held_lp: float  # CmdStan's params with the silent part set to ours
    stan_scores: tuple[float, float, float]  # Stan's log_prob of the three
    silent_moves: np.ndarray  # how far CmdStan moved along the silent directions
    yhat_gap: dict[str, np.ndarray]  # per freq: |Δyhat| / y_scale, history and future rows


def stan_log_prob(model: Any, params: dict[str, np.ndarray], data: dict[str, Any]) -> float:
    """Stan's own score of `params` (Prophet's compiled model, no Jacobian, as optimize)."""
    plain = {name: np.ravel(params[name]).tolist() for name in ("delta", "beta")}
    plain |= {name: float(np.ravel(params[name])[0]) for name in ("k", "m", "sigma_obs")}
    out = model.log_prob(params=plain, data=data, jacobian=False, sig_figs=15)
    return float(out["lp__"].iloc[0])


def with_theta(params: dict[str, np.ndarray], theta: np.ndarray) -> dict[str, np.ndarray]:
    s = params["delta"].size
    parts = {"m": theta[:1], "k": theta[1:2], "delta": theta[2 : 2 + s], "beta": theta[2 + s :]}
    return params | parts


@pytest.fixture(scope="module")
def comparisons() -> dict[tuple[str, int, str], Comparison]:
    from prophet import Prophet

    forecasting.load_prophet()
    results = {}
    for window in windows():
        body = history(*window)
        req = parse_request(body)
        cmdstan = forecasting.fit(req.ds, req.y)
        ours = forecasting.fit_fast(req.ds, req.y)
        scratch = Prophet()
        model_inputs = scratch.preprocess(forecasting.history_frame(req.ds, req.y))
        inputs = dataclasses.asdict(model_inputs)
        init = dataclasses.asdict(scratch.calculate_initial_params(model_inputs.K))
        _, data_list = scratch.stan_backend.prepare_data(init, inputs)
        stan_model = scratch.stan_backend.model
        prob = fastfit.problem(inputs)
        silent = fastfit.silent_directions(prob.gram, prob.zty, prob.yty, prob.ridge, prob.rows)
        theirs = fastfit.theta_of(cmdstan.params)
        held = theirs + silent @ (silent.T @ (fastfit.theta_of(ours.params) - theirs))
        cmdstan_held = with_theta(cmdstan.params, held)
        gaps = {}
        for freq in FREQS:
            at = parse_request(body | {"freq": freq})
            yhat = [
                forecasting.forecast_columns(m, at.dates, at.interval_width, at.seed())["yhat"]
                for m in (ours, cmdstan)
            ]
            gaps[freq] = np.abs(yhat[0] - yhat[1]) / cmdstan.y_scale
        results[window] = Comparison(
            ours_lp=fastfit.log_posterior(ours.params, inputs),
            cmdstan_lp=fastfit.log_posterior(cmdstan.params, inputs),
            cmdstan_held_lp=fastfit.log_posterior(cmdstan_held, inputs),
            stan_scores=tuple(  # type: ignore[arg-type]
                stan_log_prob(stan_model, p, data_list)
                for p in (ours.params, cmdstan.params, cmdstan_held)
            ),
            silent_moves=silent.T @ (theirs - fastfit.theta_of(init)),
            yhat_gap=gaps,
        )
    return results


@pytest.mark.slow
def test_log_posterior_is_stans_own(comparisons: dict[tuple[str, int, str], Comparison]) -> None:
    for window, c in comparisons.items():
        ours = (c.ours_lp, c.cmdstan_lp, c.cmdstan_held_lp)
        assert c.stan_scores == pytest.approx(ours, rel=1e-9), window


@pytest.mark.slow
def test_cmdstan_leaves_the_silent_directions_nearly_where_they_start(
    comparisons: dict[tuple[str, int, str], Comparison],
) -> None:
    """The premise of holding them: on a weekday history there are two (Saturday, Sunday),
    and CmdStan's optimizer moves them by a hundredth or less of the scaled series."""
    weekday_histories = [w for w in comparisons if w[2] != "calendar days, a gap"]
    for window in weekday_histories:
        assert comparisons[window].silent_moves.shape == (2,), window
    for window, c in comparisons.items():
        assert np.abs(c.silent_moves).max(initial=0.0) <= 0.01, window


@pytest.mark.slow
def test_our_optimum_scores_at_least_cmdstans_where_the_rows_pin_it(
    comparisons: dict[tuple[str, int, str], Comparison],
) -> None:
    """CmdStan's answer with its silent part set to ours (which it barely moved) is a point of
    the set our fit searches: it scores no higher."""
    assert len(comparisons) == 14
    for window, c in comparisons.items():
        assert c.ours_lp >= c.cmdstan_held_lp, window
        assert c.stan_scores[0] >= c.stan_scores[2], window


@pytest.mark.slow
def test_forecasts_stay_close_to_prophets_on_every_row_and_calendar(
    comparisons: dict[tuple[str, int, str], Comparison],
) -> None:
    """Days the history never has included: weekends with D, every row of the history."""
    for window, c in comparisons.items():
        for freq, gap in c.yhat_gap.items():
            assert np.median(gap) <= 0.005, (window, freq)
            assert gap.max() <= 0.05, (window, freq)


# --- in the service: no processes, no files, its own cache tag and fitted-model slot ---


def with_engine(
    req: ForecastRequest, engine: str | None, method: str = "prophet"
) -> ForecastRequest:
    """The request with other `engine` and `method` fields."""
    return dataclasses.replace(req, engine=engine, method=method)


def files_under(*folders: Path) -> list[str]:
    return sorted(
        os.path.join(d, f) for folder in folders for d, _, fs in os.walk(folder) for f in fs
    )


@pytest.mark.slow
def test_fast_fit_starts_no_process_and_writes_no_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import cmdstanpy

    forecasting.load_prophet()
    req = parse_request(request_body("IBM", 300, "k", periods=5))
    forecasting.fit_fast(req.ds, req.y)  # the imports done before the watch starts

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the fast fit started a process")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    folders = (tmp_path, Path(cmdstanpy._TMPDIR))
    before = files_under(*folders)
    req = parse_request(request_body("IBM", 301, "k", periods=5))
    model = forecasting.fit_fast(req.ds, req.y)
    assert files_under(*folders) == before
    assert model.params["sigma_obs"].shape == (1, 1)


@pytest.mark.slow
def test_the_fast_fit_is_the_default_and_cmdstan_runs_when_asked_with_its_own_tag_and_slot() -> (
    None
):
    plain = parse_request(request_body("MSFT", 300, "k", periods=10))
    cmdstan = with_engine(plain, "cmdstan")
    assert requested_engine(plain) == "fast"
    assert requested_engine(with_engine(plain, "fast")) == "fast"
    assert requested_engine(cmdstan) == "cmdstan"
    assert requested_engine(with_engine(plain, None, method="calibrated")) == "fast"
    assert requested_engine(with_engine(plain, "cmdstan", method="calibrated")) == "cmdstan"
    engine = ProphetEngine()
    engine.warm_up()
    assert engine.method(cmdstan).tag == engine.name
    assert engine.method(plain).tag == engine.method(with_engine(plain, "fast")).tag
    assert engine.method(plain).tag not in (engine.name, "")
    cmdstan_answer = engine.run(cmdstan)
    fast_answer = engine.run(plain)
    assert fast_answer != cmdstan_answer  # its own fitted-model slot, not CmdStan's model
    assert engine.run(cmdstan) == cmdstan_answer
    assert ProphetEngine().run(plain) == fast_answer  # a fresh worker: the same bytes


@pytest.mark.slow
def test_the_service_answers_either_engine_and_refuses_an_unknown_engine() -> None:
    from fastapi.testclient import TestClient

    from tickercast.model.api import create_app
    from tickercast.settings import ModelSettings

    app = create_app(ModelSettings(model_api_keys="k", model_cache_ttl=0))
    body = request_body("AAPL", 300, "k", periods=5, freq="XNYS")
    with TestClient(app) as client:
        fast = client.post("/", json={**body, "engine": "fast"})
        default = client.post("/", json=body)
        cmdstan = client.post("/", json={**body, "engine": "cmdstan"})
        unknown = client.post("/", json={**body, "engine": "gpu"})
    assert fast.status_code == default.status_code == cmdstan.status_code == 200
    assert fast.content == default.content
    assert fast.content != cmdstan.content
    assert (default.headers["X-Model-Version"], cmdstan.headers["X-Model-Version"]) == (
        f"fast/{__version__}",
        f"cmdstan/{__version__}",
    )
    assert list(fast.json()) == list(cmdstan.json())
    assert list(fast.json()["ds"]) == [str(300 + i) for i in range(5)]
    assert unknown.status_code == 400
    assert unknown.json() == {
        "message": "invalid input: unknown engine 'gpu'; use 'cmdstan' or 'fast'"
    }


@pytest.mark.slow
def test_no_small_nudge_scores_higher_by_stans_own_log_prob_at_a_small_prior_scale() -> None:
    """Stan's score, not ours, at a seasonality prior scale small enough to halve the weekly
    wave: a ridge weight written wrong (1/σ for 1/σ²) moves the optimum, and a nudge gains."""
    from prophet import Prophet

    from tests.model.test_fastfit_silent import daily_stan_data

    forecasting.load_prophet()
    stan_model = Prophet().stan_backend.model
    # every day of the week observed: no silent direction, the exact optimum everywhere
    stan_data = daily_stan_data(np.arange(140), seed=5, sigmas=0.001, weekly=0.02)
    data = {k: np.asarray(v).tolist() if np.ndim(v) else v for k, v in stan_data.items()}
    params = fastfit.optimize(stan_data)
    best = stan_log_prob(stan_model, params, data)
    assert best == pytest.approx(fastfit.log_posterior(params, stan_data), rel=1e-9)
    theta = fastfit.theta_of(params)
    seasonal = slice(len(theta) - stan_data["K"], len(theta))
    rng = np.random.default_rng(0)
    for direction in [np.eye(len(theta))[0], *rng.normal(size=(4, len(theta)))]:
        direction[seasonal.start] += 1.0  # a seasonal part in each
        for step in (1e-3, -1e-3):
            nudged = with_theta(params, theta + step * direction / np.linalg.norm(direction))
            assert stan_log_prob(stan_model, nudged, data) < best
