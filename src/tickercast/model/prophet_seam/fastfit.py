"""Prophet's MAP fit solved in-process: the same optimum CmdStan looks for, found exactly.

Prophet's Stan model (`prophet.stan`, linear trend, additive seasonality) scores, with the
constants that `~` drops left out and no Jacobian (as CmdStan's `optimize` does):

    lp = -k²/50 - m²/50 - Σ|δ|/τ - 2σ² - Σ β_j²/(2 s_j²) - T log σ - RSS/(2σ²)

where the trend is `k t + m + Σ_j [t ≥ c_j] (t - c_j) δ_j`, the mean is `trend + X_sa β`, and RSS
is the residual sum of squares of the (scaled) `y`. Everything is in Prophet's scaled units.

Two facts make it small:

- With σ fixed, the mean is linear in θ = (m, k, δ, β), so maximising lp is a lasso:
  minimise ½ θᵀ(G + v D)θ - bᵀθ + (v/τ) Σ|δ| with v = σ², G = ZᵀZ and b = Zᵀy for the design
  Z = [1, t, changepoint ramps, X], and D the ridge of the normal priors (1/25 on m and k,
  1/s_j² on β). `solve_lasso` finds its exact optimum by an active set on the signs of δ:
  every step is one small linear solve, and the Gram matrix is built once per fit in one
  pass over the rows.
- The priors on θ do not involve σ, so at the optimum ∂lp/∂σ = 0 reads 4σ⁴ + Tσ² - RSS = 0,
  RSS taken at the lasso's optimum for that σ. `fit_map` solves that for v = σ² with Newton
  steps kept inside a bracket, the lasso re-solved exactly (warm-started) at every step.

Where the rows are silent, the optimum is not the answer. On a Monday-Friday history the weekly
terms' Saturday and Sunday values, and how the level is shared between the offset m and the
weekly terms, are directions of θ that move no fitted row (the null space of G); only the
priors act there, and their exact optimum moves the level into the weekly terms, so every
weekend forecast falls far below the prices (to a tenth of them). CmdStan's L-BFGS, started
from Prophet's initial point, leaves those directions where they start: the data's curvature
is many orders of magnitude above the priors', so it has converged long before they move. The
solver does the same on purpose: θ is restricted to Prophet's initial point plus the
directions the rows pin (`silent_directions`: an eigenvector of G is silent when the rows pin
it less than the weakest prior does), and is the optimum of the objective there (to a part in
10⁸: the restriction is a stiff quadratic term in the lasso, `Problem.hold`). In the pinned
directions, that is an optimum at least as good as CmdStan's. With `hold="seasonality"` (the
calibrated forecast's fit) the seasonal coefficients' part of the silent directions stays at
Prophet's initial zero instead, and the trend's offset carries the level: a silent weekday sits
at the level of the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

# Prophet's fixed priors: normal(0, 5) on k and m, normal(0, 0.5) on sigma_obs.
TREND_PRIOR_VAR = 25.0
SIGMA_PRIOR_SD = 0.5

# The rows pin an eigenvector of G when its curvature exceeds the weakest prior's, at the
# least-squares σ², by this factor; below it (or below G's rounding), the direction is silent.
PINNED_OVER_PRIOR = 1.0
ROUNDING = 1e-10
INVERSE_ITERATIONS = 6  # each shrinks what the pinned directions leave by 10³ or more

# What stays at Prophet's initial point in the silent directions: θ's own component there (as
# CmdStan's L-BFGS leaves it: Prophet's answer), or the seasonal coefficients' (zero, so the
# trend's offset carries the level and a silent weekday sits at the level of the others).
HOLD_THETA = "theta"
HOLD_SEASONALITY = "seasonality"
HOLDS = (HOLD_THETA, HOLD_SEASONALITY)
TREND_WEIGHT = 1e-6

_MAX_LASSO_STEPS = 10_000
_MAX_SIGMA_STEPS = 200


class UnsupportedModel(ValueError):
    """The Stan data describe a model this solver does not cover (logistic or flat trend,
    multiplicative seasonality)."""


@dataclass(frozen=True)
class Problem:
    """The lasso's data for one fit: Gram matrix, ridge, which coordinates carry the L1, and
    the silent directions held at Prophet's initial point."""

    gram: np.ndarray  # ZᵀZ
    zty: np.ndarray  # Zᵀy
    yty: float
    rows: int
    ridge: np.ndarray  # D: the ridge per coordinate for v = 1 (0 on the deltas)
    l1: np.ndarray  # bool: the delta coordinates
    tau: float
    n_changepoints: int
    # ½ (θ - θ₀)ᵀ hold (θ - θ₀) added to the lasso: stiff in the silent directions, 0 elsewhere
    hold: np.ndarray
    held: np.ndarray  # hold @ θ₀

    def rss(self, theta: np.ndarray) -> float:
        return float(self.yty - 2.0 * self.zty @ theta + theta @ self.gram @ theta)

    def lasso_terms(self, v: float) -> tuple[np.ndarray, np.ndarray]:
        """H and b of the lasso at σ² = v (the silent directions held)."""
        return self.gram + self.hold + np.diag(v * self.ridge), self.zty + self.held


def changepoint_ramps(t: np.ndarray, t_change: np.ndarray) -> np.ndarray:
    """The trend's columns for the deltas: (t - c_j) where t ≥ c_j, else 0 (`max(t - c_j, 0)`:
    the difference of two doubles is 0 only where they are equal)."""
    return np.maximum(np.subtract.outer(t, t_change), 0.0)


def design(stan_data: dict[str, Any]) -> np.ndarray:
    """Z = [1, t, changepoint ramps, X]: the mean is Z @ (m, k, δ, β)."""
    t = np.asarray(stan_data["t"], dtype=float)
    t_change = np.atleast_1d(np.asarray(stan_data["t_change"], dtype=float))
    x = np.asarray(stan_data["X"], dtype=float).reshape(len(t), -1)
    s = len(t_change)
    z = np.empty((len(t), 2 + s + x.shape[1]))
    z[:, 0], z[:, 1] = 1.0, t
    ramps = z[:, 2 : 2 + s]
    np.maximum(np.subtract(t[:, None], t_change[None, :], out=ramps), 0.0, out=ramps)
    np.multiply(x, np.asarray(stan_data["s_a"], dtype=float).ravel(), out=z[:, 2 + s :])
    return z  # X times s_a: the model's X_sa


def check_supported(stan_data: dict[str, Any]) -> None:
    if int(stan_data["trend_indicator"]) != 0:
        raise UnsupportedModel("only Prophet's linear trend is supported")
    if np.any(np.asarray(stan_data["s_m"], dtype=float) != 0):
        raise UnsupportedModel("only additive seasonality is supported")


def initial_point(stan_data: dict[str, Any]) -> np.ndarray:
    """Prophet's initial θ for a linear trend: the line through the first and last rows (its
    rows are in time order), no changepoint moves, no seasonality."""
    t = np.asarray(stan_data["t"], dtype=float)
    y = np.asarray(stan_data["y"], dtype=float)
    k = (y[-1] - y[0]) / (t[-1] - t[0]) if t[-1] > t[0] else 0.0
    m = y[0] - k * t[0]
    n_changepoints = len(np.atleast_1d(stan_data["t_change"]))
    n_seasonal = len(np.asarray(stan_data["sigmas"], dtype=float).ravel())
    return np.concatenate([[m, k], np.zeros(n_changepoints + n_seasonal)])


def theta_of(params: dict[str, Any]) -> np.ndarray:
    """θ = (m, k, δ, β) from params shaped like Prophet's (or its `stan_init`)."""

    def flat(name: str) -> np.ndarray:
        return np.asarray(params[name], dtype=float).ravel()

    return np.concatenate([flat("m"), flat("k"), flat("delta"), flat("beta")])


def _root(rss: float, n: int) -> float:
    """The positive v with 4v² + n v = rss: σ²'s stationarity condition."""
    return float(2.0 * rss / (n + np.sqrt(n * n + 16.0 * rss)))


def silent_directions(
    gram: np.ndarray, zty: np.ndarray, yty: float, ridge: np.ndarray, rows: int
) -> np.ndarray:
    """Orthonormal columns spanning the directions of θ the rows do not pin: eigenvectors of
    G = ZᵀZ whose curvature is below rounding, or below the weakest prior's at the σ² of the
    least-squares fit (the smallest σ² the optimum can have: there the rows say less than the
    priors do).

    The eigenvalues come from LAPACK; the few eigenvectors by inverse iteration on G shifted
    by the rounding level (a handful of small solves): LAPACK's symmetric eigenvectors cost
    tens of milliseconds under a multi-threaded BLAS on a busy machine, the solves do not."""
    curvature = np.linalg.eigvalsh(gram)
    rounding = ROUNDING * max(float(curvature[-1]), 0.0)
    shifted = gram + np.diag(np.full(len(gram), max(rounding, 1e-300)))
    # σ² of least squares; b = Zᵀy has nothing in G's null space, so the shift barely shows
    v = _root(max(yty - float(zty @ _solve(shifted, zty)), 0.0), rows)
    weakest_prior = float(ridge[ridge > 0].min())
    count = int(np.sum(curvature <= max(rounding, PINNED_OVER_PRIOR * v * weakest_prior)))
    block = np.random.default_rng(0).standard_normal((len(gram), count))
    for _ in range(INVERSE_ITERATIONS if count else 0):
        block = np.linalg.qr(_solve(shifted, block))[0]
    return block


def seasonal_part(silent: np.ndarray, n_changepoints: int) -> np.ndarray:
    """Orthonormal columns spanning the seasonal coefficients' part of the silent directions
    (the trend's part weighted down to a millionth: a silent direction of the trend alone, as
    coinciding changepoint columns make, is still held)."""
    weights = np.full(len(silent), TREND_WEIGHT)
    weights[2 + n_changepoints :] = 1.0
    return np.linalg.qr(silent * weights[:, None])[0]


def problem(
    stan_data: dict[str, Any], init: np.ndarray | None = None, hold: str = HOLD_THETA
) -> Problem:
    """The fit's lasso data; the silent directions held at `init`, Prophet's initial θ
    (default: `initial_point`), in θ's coordinates or the seasonal ones (`hold`)."""
    if hold not in HOLDS:
        raise ValueError(f"unknown hold {hold!r}; expected one of {HOLDS}")
    check_supported(stan_data)
    z = design(stan_data)
    y = np.asarray(stan_data["y"], dtype=float)
    n_changepoints = len(np.atleast_1d(stan_data["t_change"]))
    sigmas = np.asarray(stan_data["sigmas"], dtype=float).ravel()
    ridge = np.concatenate([[1.0 / TREND_PRIOR_VAR] * 2, np.zeros(n_changepoints), 1.0 / sigmas**2])
    l1 = np.zeros(len(ridge), dtype=bool)
    l1[2 : 2 + n_changepoints] = True
    gram, zty, yty = z.T @ z, z.T @ y, float(y @ y)
    silent = silent_directions(gram, zty, yty, ridge, len(y))
    held_part = silent if hold == HOLD_THETA else seasonal_part(silent, n_changepoints)
    # as stiff as all the rows together: the priors' pull moves a held direction by a part in
    # 10⁸ or less, and the lasso's matrix stays about as well conditioned as G
    hold_matrix = max(float(np.trace(gram)), 1.0) * (held_part @ held_part.T)
    theta0 = initial_point(stan_data) if init is None else init
    return Problem(
        gram=gram,
        zty=zty,
        yty=yty,
        rows=len(y),
        ridge=ridge,
        l1=l1,
        tau=float(stan_data["tau"]),
        n_changepoints=n_changepoints,
        hold=hold_matrix,
        held=hold_matrix @ theta0,
    )


def _solve(a: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """a⁻¹ rhs; for an exactly singular `a` (changepoint columns that coincide on a very short
    series), the least-squares solution of least norm, one of the equally good answers."""
    try:
        return np.linalg.solve(a, rhs)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(a, rhs, rcond=None)[0]


def solve_lasso(
    h: np.ndarray, b: np.ndarray, lam: float, l1: np.ndarray, start: np.ndarray | None = None
) -> np.ndarray:
    """argmin ½ xᵀHx - bᵀx + lam Σ_{j in l1} |x_j|, H positive definite: an active set on
    the signs of the `l1` coordinates (the others are always free).

    On a fixed sign pattern the objective is a quadratic, minimised by one linear solve. Each
    step walks from x towards that minimiser and stops where a signed coordinate would change
    sign (it leaves the set) or at the minimiser; there, the inactive coordinate whose gradient
    most exceeds lam joins with the sign that lowers the objective. Every step lowers the
    objective and a sign pattern's minimiser is visited at most once, so it ends, at the exact
    optimum.
    """
    x = np.zeros(len(b)) if start is None else start.copy()
    signs = np.sign(x) * l1
    active = ~l1 | (x != 0)
    tol = 1e-12 * max(1.0, float(np.abs(b).max()))
    at_minimiser = False  # a warm start is first moved to its own pattern's minimiser
    for _ in range(_MAX_LASSO_STEPS):
        if at_minimiser:
            grad = h @ x - b
            slack = np.where(active, -np.inf, np.abs(grad) - lam)
            j = int(np.argmax(slack))
            if slack[j] <= tol:
                return x
            signs[j] = -np.sign(grad[j])
            active[j] = True
        idx = np.flatnonzero(active)
        target = _solve(h.take(idx, 0).take(idx, 1), b[idx] - lam * signs[idx])
        wrong = np.flatnonzero(l1[idx] & (target * signs[idx] <= 0))
        if len(wrong) == 0:
            x[idx] = target
            at_minimiser = True
            continue
        old = x[idx]
        fractions = old[wrong] / (old[wrong] - target[wrong])
        k = int(np.argmin(fractions))
        if fractions[k] <= 0:
            # only a coordinate that just joined starts at zero: it cannot move the objective
            # down, which at a pattern's minimiser means the optimum, up to rounding
            return x
        x[idx] = old + fractions[k] * (target - old)
        x[idx[wrong[k]]] = 0.0
        active = ~l1 | (x != 0)
        signs = np.sign(x) * l1
        at_minimiser = False
    raise RuntimeError("the lasso did not converge")


@dataclass(frozen=True)
class Optimum:
    theta: np.ndarray  # (m, k, δ..., β...)
    sigma: float


def _lasso_at(prob: Problem, v: float, start: np.ndarray | None) -> tuple[np.ndarray, float, float]:
    """The lasso's optimum at σ² = v, its RSS, and d RSS / dv with the signs held."""
    h, b = prob.lasso_terms(v)
    theta = solve_lasso(h, b, v / prob.tau, prob.l1, start)
    idx = np.flatnonzero(~prob.l1 | (theta != 0))
    signs = np.sign(theta[idx]) * prob.l1[idx]
    # θ_A(v) = H_A(v)⁻¹ (b_A - (v/τ) s_A), so dθ_A/dv = -H_A⁻¹ (D_A θ_A + s_A/τ)
    rhs = prob.ridge[idx] * theta[idx] + signs / prob.tau
    dtheta = -_solve(h.take(idx, 0).take(idx, 1), rhs)
    grad = (prob.gram @ theta - prob.zty)[idx]  # RSS's own gradient: the hold is not in it
    return theta, prob.rss(theta), float(2.0 * grad @ dtheta)


def fit_map(prob: Problem) -> Optimum:
    """The joint optimum over θ and σ: the root in v = σ² of 4v² + Tv - RSS(θ*(v)) = 0."""
    n = prob.rows

    def root(rss: float) -> float:
        return _root(rss, n)

    # θ = 0 is always allowed, so RSS(θ*(v)) ≤ yᵀy: the equation is ≥ 0 at root(yᵀy).
    lo, hi = 0.0, root(prob.yty)
    # No θ fits better than least squares, so the equation is ≤ 0 at root(RSS of least
    # squares): the start, usually close (a whisker of ridge keeps the solve well posed).
    # A series the model fits exactly (a handful of rows) has its root at 0 and an unbounded
    # objective: σ stops at a millionth of the root for yᵀy, as any optimizer has to somewhere.
    smallest = 1e-12 * hi
    h, b = prob.lasso_terms(0.0)
    h = h + np.diag(1e-9 * hi * np.maximum(prob.ridge, 1.0))
    v, theta = max(min(root(prob.rss(_solve(h, b))), hi), smallest), None
    for _ in range(_MAX_SIGMA_STEPS):
        theta, rss, drss = _lasso_at(prob, v, theta)
        gap = 4.0 * v * v + n * v - rss
        if gap >= 0:
            hi = v
        else:
            lo = v
        slope = 8.0 * v + n - drss
        newton = v - gap / slope if slope > 0 else np.nan
        if gap == 0 or abs(newton - v) <= 1e-9 * v or hi - lo <= 1e-12 * hi:
            break
        if gap > 0 and v <= smallest:
            break
        if lo < newton < hi:
            v = newton
        elif lo < root(rss) < hi:
            v = root(rss)  # one step of the plain alternation
        else:
            v = 0.5 * (lo + hi)
        v = max(v, smallest)
    assert theta is not None
    return Optimum(theta=theta, sigma=float(np.sqrt(v)))


def log_posterior(params: dict[str, Any], stan_data: dict[str, Any]) -> float:
    """Prophet's log posterior as Stan's `optimize` scores it (constants dropped, no Jacobian),
    for params shaped like Prophet's (`k`, `m`, `delta`, `sigma_obs`, `beta`)."""
    check_supported(stan_data)
    theta = theta_of(params)
    s = len(np.atleast_1d(stan_data["t_change"]))
    m, k, delta, beta = theta[0], theta[1], theta[2 : 2 + s], theta[2 + s :]
    sigma = float(np.asarray(params["sigma_obs"], dtype=float).ravel()[0])
    resid = np.asarray(stan_data["y"], dtype=float) - design(stan_data) @ theta
    sigmas = np.asarray(stan_data["sigmas"], dtype=float).ravel()
    return float(
        -(k * k + m * m) / (2.0 * TREND_PRIOR_VAR)
        - np.abs(delta).sum() / float(stan_data["tau"])
        - sigma * sigma / (2.0 * SIGMA_PRIOR_SD**2)
        - (beta * beta / (2.0 * sigmas**2)).sum()
        - len(resid) * np.log(sigma)
        - resid @ resid / (2.0 * sigma * sigma)
    )


def optimize(
    stan_data: dict[str, Any], stan_init: dict[str, Any] | None = None, hold: str = HOLD_THETA
) -> dict[str, np.ndarray]:
    """Prophet's MAP params for its Stan data, shaped as its CmdStan backend returns them;
    the silent directions held at `stan_init` (Prophet's initial params; default: the same,
    `initial_point`) as `hold` says."""
    prob = problem(stan_data, None if stan_init is None else theta_of(stan_init), hold)
    best = fit_map(prob)
    s = prob.n_changepoints
    m, k, delta, beta = best.theta[0], best.theta[1], best.theta[2 : 2 + s], best.theta[2 + s :]
    t = np.asarray(stan_data["t"], dtype=float)
    t_change = np.atleast_1d(np.asarray(stan_data["t_change"], dtype=float))
    trend = k * t + m + changepoint_ramps(t, t_change) @ delta
    return {
        "k": np.array([[k]]),
        "m": np.array([[m]]),
        "delta": delta.reshape(1, -1),
        "sigma_obs": np.array([[best.sigma]]),
        "beta": beta.reshape(1, -1),
        "trend": trend.reshape(1, -1),
    }
