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
import pytest

from tests.prices import adj_close, request_body
from tickercast.contract import ForecastRequest, parse_request
from tickercast.model import fastfit, forecasting
from tickercast.model.engine import ProphetEngine, requested_engine

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


def windows() -> list[tuple[str, int]]:
    """Every embedded ticker at every size it has; FB (196 sessions) at its full length."""
    out = []
    for ticker in TICKERS:
        have = len(adj_close(ticker, 10**6))
        out += [(ticker, rows) for rows in SIZES if rows <= have] or [(ticker, have)]
    return out


@dataclasses.dataclass
class Comparison:
    ours_lp: float
    cmdstan_lp: float
    stan_scores: tuple[float, float]  # Stan's log_prob of (ours, CmdStan's)
    yhat_gap: np.ndarray  # |Δyhat| / y_scale on history and the future rows


def stan_log_prob(model: Any, params: dict[str, np.ndarray], data: dict[str, Any]) -> float:
    """Stan's own score of `params` (Prophet's compiled model, no Jacobian, as optimize)."""
    plain = {name: params[name].ravel().tolist() for name in ("delta", "beta")}
    plain |= {name: float(params[name].ravel()[0]) for name in ("k", "m", "sigma_obs")}
    out = model.log_prob(params=plain, data=data, jacobian=False, sig_figs=15)
    return float(out["lp__"].iloc[0])


@pytest.fixture(scope="module")
def comparisons() -> dict[tuple[str, int], Comparison]:
    from prophet import Prophet

    forecasting.load_prophet()
    results = {}
    for ticker, rows in windows():
        req = parse_request(request_body(ticker, rows, "k", periods=PERIODS, include_history=True))
        cmdstan = forecasting.fit(req.ds, req.y)
        ours = forecasting.fit_fast(req.ds, req.y)
        scratch = Prophet()
        model_inputs = scratch.preprocess(forecasting.history_frame(req.ds, req.y))
        inputs = dataclasses.asdict(model_inputs)
        init = dataclasses.asdict(scratch.calculate_initial_params(model_inputs.K))
        _, data_list = scratch.stan_backend.prepare_data(init, inputs)
        stan_model = scratch.stan_backend.model
        yhat = [
            forecasting.forecast_columns(m, req.dates, req.interval_width, req.seed())["yhat"]
            for m in (ours, cmdstan)
        ]
        results[ticker, rows] = Comparison(
            ours_lp=fastfit.log_posterior(ours.params, inputs),
            cmdstan_lp=fastfit.log_posterior(cmdstan.params, inputs),
            stan_scores=(
                stan_log_prob(stan_model, ours.params, data_list),
                stan_log_prob(stan_model, cmdstan.params, data_list),
            ),
            yhat_gap=np.abs(yhat[0] - yhat[1]) / cmdstan.y_scale,
        )
    return results


@pytest.mark.slow
def test_log_posterior_is_stans_own(comparisons: dict[tuple[str, int], Comparison]) -> None:
    for window, c in comparisons.items():
        assert c.stan_scores == pytest.approx((c.ours_lp, c.cmdstan_lp), rel=1e-9), window


@pytest.mark.slow
def test_our_optimum_scores_at_least_cmdstans_in_every_window(
    comparisons: dict[tuple[str, int], Comparison],
) -> None:
    assert len(comparisons) == 12
    for window, c in comparisons.items():
        assert c.ours_lp >= c.cmdstan_lp, window
        assert c.stan_scores[0] >= c.stan_scores[1], window


@pytest.mark.slow
def test_forecasts_stay_close_to_prophets(comparisons: dict[tuple[str, int], Comparison]) -> None:
    for (ticker, rows), c in comparisons.items():
        assert np.median(c.yhat_gap) <= 0.01, (ticker, rows)
        if rows >= 1250:
            assert c.yhat_gap.max() <= 0.05, (ticker, rows)


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
def test_engine_runs_the_fast_fit_when_asked_with_its_own_tag_and_slot() -> None:
    plain = parse_request(request_body("MSFT", 300, "k", periods=10))
    fast = with_engine(plain, "fast")
    assert requested_engine(plain) == "cmdstan"
    assert requested_engine(with_engine(plain, None)) == "cmdstan"
    assert requested_engine(fast) == "fast"
    assert requested_engine(with_engine(plain, None, method="calibrated")) == "fast"
    assert requested_engine(with_engine(plain, "cmdstan", method="calibrated")) == "cmdstan"
    engine = ProphetEngine()
    engine.warm_up()
    assert engine.method(plain).tag == engine.name
    assert engine.method(fast).tag not in (engine.name, "")
    cmdstan_answer = engine.run(plain)
    fast_answer = engine.run(fast)
    assert fast_answer != cmdstan_answer  # its own fitted-model slot, not CmdStan's model
    assert engine.run(plain) == cmdstan_answer
    assert ProphetEngine().run(fast) == fast_answer  # a fresh worker: the same bytes


@pytest.mark.slow
def test_the_service_answers_engine_fast_and_refuses_an_unknown_engine() -> None:
    from fastapi.testclient import TestClient

    from tickercast.model.api import create_app
    from tickercast.settings import ModelSettings

    app = create_app(ModelSettings(model_api_keys="k", model_cache_ttl=0))
    body = request_body("AAPL", 300, "k", periods=5, freq="XNYS")
    with TestClient(app) as client:
        fast = client.post("/", json={**body, "engine": "fast"})
        again = client.post("/", json={**body, "engine": "fast"})
        cmdstan = client.post("/", json=body)
        unknown = client.post("/", json={**body, "engine": "gpu"})
    assert fast.status_code == cmdstan.status_code == 200
    assert fast.content == again.content != cmdstan.content
    assert list(fast.json()) == list(cmdstan.json())
    assert list(fast.json()["ds"]) == [str(300 + i) for i in range(5)]
    assert unknown.status_code == 400
    assert unknown.json() == {
        "message": "invalid input: unknown engine 'gpu'; use 'cmdstan' or 'fast'"
    }
