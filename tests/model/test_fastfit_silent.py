"""The in-process fit where the rows are silent: on a Monday-Friday history, the directions of
θ that move only Saturdays and Sundays stay at Prophet's initial point, and everything the rows
do pin is at its exact optimum. Stan-shaped data built here, no Prophet."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from tickercast.model.prophet_seam import fastfit

HOLDS = (fastfit.HOLD_THETA, fastfit.HOLD_SEASONALITY)
WEEKLY_ORDER = 3


def weekly_columns(days: np.ndarray) -> np.ndarray:
    """Prophet's weekly Fourier columns (period 7 days, order 3) at `days` since a Monday."""
    angles = 2 * np.pi * np.outer(days / 7.0, np.arange(1, WEEKLY_ORDER + 1))
    return np.column_stack([f(angles[:, i]) for i in range(WEEKLY_ORDER) for f in (np.sin, np.cos)])


def daily_stan_data(
    days: np.ndarray,
    seed: int = 0,
    level: float = 0.8,
    sigmas: float = 10.0,
    weekly: float = 0.002,
) -> dict[str, Any]:
    """Stan data shaped like Prophet's for prices on `days` (day numbers, a Monday is 0): a
    random walk around `level` (scaled units) with a `weekly` wave, three changepoints, weekly
    seasonality with prior scale `sigmas`."""
    rng = np.random.default_rng(seed)
    t = (days - days[0]) / (days[-1] - days[0])
    x = weekly_columns(days.astype(float))
    y = level + np.cumsum(rng.normal(scale=0.01, size=len(days))) + weekly * x[:, 0]
    return {
        "T": len(days),
        "K": x.shape[1],
        "t": t,
        "cap": np.zeros(len(days)),
        "y": y,
        "S": 3,
        "t_change": np.quantile(t, [0.2, 0.4, 0.6]),
        "X": x,
        "sigmas": np.full(x.shape[1], sigmas),
        "tau": 0.05,
        "trend_indicator": 0,
        "s_a": np.ones(x.shape[1]),
        "s_m": np.zeros(x.shape[1]),
    }


def weekdays(weeks: int) -> np.ndarray:
    days = np.arange(7 * weeks)
    return days[days % 7 < 5]


def silent_of(stan_data: dict[str, Any]) -> np.ndarray:
    prob = fastfit.problem(stan_data)
    ridge = prob.ridge
    return fastfit.silent_directions(prob.gram, prob.zty, prob.yty, ridge, prob.rows)


def fitted_at(
    stan_data: dict[str, Any], theta: np.ndarray, history: np.ndarray, days: np.ndarray
) -> np.ndarray:
    """The model's mean for θ at `days`, on the time scale of the `history` it was fitted to."""
    t = (days - history[0]) / (history[-1] - history[0])
    return fastfit.design(dict(stan_data, t=t, X=weekly_columns(days.astype(float)))) @ theta


def exact_optimum(stan_data: dict[str, Any]) -> np.ndarray:
    """The unrestricted optimum: what the fit answered before the silent directions were held."""
    prob = fastfit.problem(stan_data)
    free = dataclasses.replace(prob, hold=np.zeros_like(prob.hold), held=np.zeros_like(prob.held))
    return fastfit.fit_map(free).theta


def test_a_weekday_history_leaves_two_directions_silent_and_they_move_only_weekends() -> None:
    days = weekdays(30)
    stan_data = daily_stan_data(days)
    silent = silent_of(stan_data)
    assert silent.shape[1] == 2
    week = np.arange(7 * 30)
    moved = np.abs(fitted_at(stan_data, silent, days, week)).max(axis=1)  # per day, over both
    assert moved[week % 7 < 5].max() < 1e-9
    assert moved[week % 7 >= 5].min() > 0.1


def test_a_history_with_every_day_has_none_and_its_fit_is_the_exact_optimum() -> None:
    stan_data = daily_stan_data(np.arange(7 * 30))
    assert silent_of(stan_data).shape[1] == 0
    for hold in HOLDS:
        ours = fastfit.theta_of(fastfit.optimize(stan_data, hold=hold))
        np.testing.assert_allclose(ours, exact_optimum(stan_data), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("hold", HOLDS)
def test_the_silent_part_stays_at_prophets_initial_point(hold: str) -> None:
    stan_data = daily_stan_data(weekdays(40), seed=3)
    silent = silent_of(stan_data)
    start = fastfit.initial_point(stan_data)
    ours = fastfit.theta_of(fastfit.optimize(stan_data, hold=hold))
    kept = silent if hold == fastfit.HOLD_THETA else fastfit.seasonal_part(silent, 3)
    np.testing.assert_allclose(kept.T @ ours, kept.T @ start, atol=1e-7)
    # the unrestricted optimum moves it by far more: what the rows did not ask for
    assert np.abs(kept.T @ (exact_optimum(stan_data) - start)).max() > 0.05


@pytest.mark.parametrize("sigmas", [10.0, 0.001])
@pytest.mark.parametrize("hold", HOLDS)
def test_no_nudge_the_rows_pin_scores_higher(hold: str, sigmas: float) -> None:
    """Optimal where the data speak: along every direction that leaves the held part alone,
    and in σ, a small step either way lowers the log posterior (a prior scale small enough to
    halve the weekly wave makes a wrong ridge weight show)."""
    stan_data = daily_stan_data(weekdays(30), seed=5, sigmas=sigmas, weekly=0.02)
    params = fastfit.optimize(stan_data, hold=hold)
    best = fastfit.log_posterior(params, stan_data)
    silent = silent_of(stan_data)
    kept = silent if hold == fastfit.HOLD_THETA else fastfit.seasonal_part(silent, 3)
    free = np.linalg.svd(np.eye(len(kept)) - kept @ kept.T)[0][:, : len(kept) - kept.shape[1]]
    delta_coords = slice(2, 5)
    theta = fastfit.theta_of(params)
    for step in (1e-3, -1e-3):
        for direction in free.T:
            nudged = theta + step * direction
            moved = dict(params, m=nudged[:1], k=nudged[1:2], delta=nudged[delta_coords])
            moved["beta"] = nudged[5:]
            assert fastfit.log_posterior(moved, stan_data) < best
        sigma = params["sigma_obs"] * (1 + step)
        assert fastfit.log_posterior(dict(params, sigma_obs=sigma), stan_data) <= best


@pytest.mark.parametrize("level", [0.05, 0.5, 1.0])
def test_weekend_values_sit_at_the_weekday_level_under_the_seasonal_hold(level: float) -> None:
    days = weekdays(50)
    stan_data = daily_stan_data(days, seed=1, level=level)
    last_week = np.arange(days[-1] - 6, days[-1] + 10)
    weekend = last_week % 7 >= 5
    ours = fastfit.theta_of(fastfit.optimize(stan_data, hold=fastfit.HOLD_SEASONALITY))
    fitted = fitted_at(stan_data, ours, days, last_week)
    spread = np.ptp(fitted[~weekend])
    assert np.all(np.abs(fitted[weekend] - np.median(fitted[~weekend])) <= 2 * spread + 1e-3)
    # the unrestricted optimum put the level into the weekly terms: weekends far below
    before = fitted_at(stan_data, exact_optimum(stan_data), days, last_week)
    assert np.min(before[weekend]) < np.median(before[~weekend]) - 0.3 * level


def test_a_calendar_series_with_a_long_gap_and_no_weekends_is_finite_and_held() -> None:
    days = weekdays(60)
    days = days[(days < 100) | (days > 190)]  # three months missing
    stan_data = daily_stan_data(days, seed=2)
    for hold in HOLDS:
        params = fastfit.optimize(stan_data, hold=hold)
        assert all(np.isfinite(v).all() for v in params.values())
        ahead = np.arange(days[-1] + 1, days[-1] + 30)
        fitted = fitted_at(stan_data, fastfit.theta_of(params), days, ahead)
        assert np.all(np.abs(fitted - stan_data["y"][-1]) < 0.2)
