"""Rolling-origin backtests: where to cut a series, the two baselines, the scores, the verdict.

Pure functions on arrays. A fold with origin `end` trains on rows `[0, end)` of the series
(sorted by date) and is scored on rows `[end, end + horizon)`: it never trains on what it scores.
The origins are spread evenly from the least training the method needs to the last one, whose
test rows end at the series' last row.

Every method is scored against the random walk on the same folds and steps: its "relative MAE"
(what this project calls MASE) is its mean absolute error divided by the random walk's, so the
random walk scores exactly 1 and a score under 1 beats it; its band's interval score is likewise
divided by the random walk's band's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from tickercast.contract import PROPHET, iso_dates
from tickercast.quant import levels as level_scoring
from tickercast.quant import scoring
from tickercast.quant.calendars import step_word
from tickercast.quant.walk import Forecast, quantile_walk, random_walk

# One fold's band at each level asked (percent): lower and upper, by step.
Bands = dict[float, tuple[np.ndarray, np.ndarray]]

RANDOM_WALK = "random_walk"
RANDOM_WALK_DRIFT = "random_walk_drift"


def origins(n: int, horizon: int, cutoffs: int, least_training: int) -> list[int]:
    """The training ends of the folds, evenly spread, the last at `n - horizon`."""
    last = n - horizon
    if last - least_training < cutoffs - 1:
        raise ValueError(f"{n} rows are too few for {cutoffs} cutoffs over {horizon} steps")
    if cutoffs == 1:
        return [last]
    return [int(round(e)) for e in np.linspace(least_training, last, cutoffs)]


def _number(x: float) -> float | None:
    """Six significant digits; None for what cannot be computed."""
    if x is None or not math.isfinite(x):
        return None
    return float(f"{x:.6g}")


def _mean(values: np.ndarray) -> float:
    return float(np.mean(values)) if len(values) else math.nan


def metrics(
    yhat: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    actual: np.ndarray,
    last: np.ndarray,
    random_walk_mae: float,
    interval_width: float,
    random_walk_interval_score: float,
) -> dict[str, Any]:
    """The scores of a set of points (NaN actuals are not scored). `last` is each point's last
    training value; `random_walk_mae` and `random_walk_interval_score` the random walk's mean
    absolute error and mean interval score on the same points."""
    # A score that overflows a double (prices near 1e-300, say) cannot be computed: None.
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        ok = ~np.isnan(actual)
        f, lo, up, a, b = yhat[ok], lower[ok], upper[ok], actual[ok], last[ok]
        err = scoring.absolute_error(f, a)
        mae = _mean(err)
        nonzero = a != 0
        denominator = np.abs(f) + np.abs(a)
        smape_terms = np.divide(2 * err, denominator, out=np.zeros_like(err), where=denominator > 0)
        predicted, happened = np.sign(f - b), np.sign(a - b)
        moved = predicted != 0
        interval_score = _mean(scoring.interval_score(lo, up, a, interval_width))
        return {
            "mae": _number(mae),
            "rmse": _number(math.sqrt(_mean(err**2))) if len(err) else None,
            "mape": _number(100 * _mean(err[nonzero] / np.abs(a[nonzero]))),
            "smape": _number(100 * _mean(smape_terms)),
            "relative_mae": _number(mae / random_walk_mae) if random_walk_mae > 0 else None,
            "coverage": _number(_mean(scoring.inside_band(lo, up, a))),
            "band_width": _number(_mean(up - lo)),
            "direction_hit_rate": _number(_mean(predicted[moved] == happened[moved])),
            "count": int(ok.sum()),
            "interval_score": _number(interval_score),
            "interval_score_ratio": _number(
                scoring.interval_score_ratio(interval_score, random_walk_interval_score)
            ),
        }


def _by_fold(forecasts: Sequence[Forecast], part: str) -> np.ndarray:
    return np.array([getattr(f, part) for f in forecasts], dtype=float)


def method_scores(
    forecasts: Sequence[Forecast],
    actual: np.ndarray,
    last: np.ndarray,
    walk: Sequence[Forecast],
    interval_width: float,
) -> dict[str, Any]:
    """Overall and per-step scores of one method; `actual` is folds x steps, `last` per fold."""
    f, lo, up = (_by_fold(forecasts, p) for p in ("yhat", "lower", "upper"))
    walk_err = scoring.absolute_error(_by_fold(walk, "yhat"), actual)
    walk_band = (_by_fold(walk, "lower"), _by_fold(walk, "upper"))
    walk_score = scoring.interval_score(*walk_band, actual, interval_width)
    lasts = np.repeat(last[:, None], actual.shape[1], axis=1)
    seen = ~np.isnan(actual)

    def score(cols: slice | int) -> dict[str, Any]:
        rw_mae = _mean(walk_err[:, cols][seen[:, cols]])
        rw_score = _mean(walk_score[:, cols][seen[:, cols]])

        def flat(x: np.ndarray) -> np.ndarray:
            return np.ravel(x[:, cols])

        return metrics(
            flat(f), flat(lo), flat(up), flat(actual), flat(lasts), rw_mae, interval_width, rw_score
        )

    return {
        "overall": score(slice(None)),
        "by_step": [score(j) for j in range(actual.shape[1])],
    }


def verdict(
    name: str, folds: int, horizon: int, freq: str, interval_width: float, overall: dict[str, Any]
) -> str:
    period = f"{horizon}-{step_word(freq).replace(' ', '-')}"  # "a 20-trading-day period"
    label = "Prophet" if name == PROPHET else name
    rel, cover = overall["relative_mae"], overall["coverage"]
    errors = (
        f"the {label} forecast's errors were {rel:.2f} times the random walk's (MASE)"
        if rel is not None
        else f"the {label} forecast's errors could not be compared with the random walk's"
    )
    band = f"its {interval_width:.0%} band held {cover:.0%} of actual values"
    if cover is None:
        band = f"its {interval_width:.0%} band could not be scored"
    periods = f"{folds} past {period} periods" if folds != 1 else f"1 past {period} period"
    return f"Over {periods}, {errors}, and {band}."


def report(
    method: str,
    ds: pd.DatetimeIndex,
    y: np.ndarray,
    ends: Sequence[int],
    horizon: int,
    freq: str,
    interval_width: float,
    forecasts: Sequence[Forecast],
    bands: Sequence[Bands] | None = None,
) -> dict[str, Any]:
    """The POST /backtest answer for `forecasts`, one per origin in `ends`; with `bands` (each
    fold's levels), the method's scores at every level too (`add_level_scores`)."""
    actual = np.array([y[e : e + horizon] for e in ends], dtype=float)
    walk = [random_walk(y[:e], horizon, interval_width) for e in ends]
    drift = [random_walk(y[:e], horizon, interval_width, drift=True) for e in ends]
    last = np.array([w.yhat[0] for w in walk])
    dates = iso_dates(ds)
    scores = {
        name: method_scores(answers, actual, last, walk, interval_width)
        for name, answers in ((method, forecasts), (RANDOM_WALK, walk), (RANDOM_WALK_DRIFT, drift))
    }
    if bands:
        walks = [quantile_walk(y[:e], horizon, [lv / 100 for lv in bands[0]]) for e in ends]
        walk_median = _by_fold(walk, "yhat")
        add_level_scores(scores[method], forecasts, bands, (walk_median, walks), actual)
    return {
        "method": method,
        "horizon": horizon,
        "interval_width": interval_width,
        "folds": [
            {
                "train_end": dates[e - 1],
                "test_start": dates[e],
                "test_end": dates[e + horizon - 1],
            }
            for e in ends
        ],
        "scores": scores,
        "verdict": verdict(
            method, len(ends), horizon, freq, interval_width, scores[method]["overall"]
        ),
    }


def _stacked(bands: Sequence[Bands], level: float) -> tuple[np.ndarray, np.ndarray]:
    """A level's lower and upper edges, folds x steps."""
    return (
        np.array([b[level][0] for b in bands], dtype=float),
        np.array([b[level][1] for b in bands], dtype=float),
    )


def add_level_scores(
    scores: dict[str, Any],
    forecasts: Sequence[Forecast],
    bands: Sequence[Bands],
    walks: tuple[np.ndarray, Sequence[Sequence[tuple[np.ndarray, np.ndarray]]]],
    actual: np.ndarray,
) -> None:
    """Add to `scores` (a method's `overall` and `by_step`) each level's coverage with its 95%
    bootstrap interval over origins and its interval score (`by_level`), the weighted interval
    score over the levels (`yhat` as the median, `wis`), its ratio to the random walk's with
    quantiles of past changes (`wis_ratio`), and, with the levels 20, 40, 60 and 80, the
    counts of the 10 PIT bins (`pit`). `walks` holds that walk's median (folds x steps) and
    its bands per fold, by level."""
    levels = list(bands[0])
    walk_median, walk_bands = walks
    median = _by_fold(forecasts, "yhat")
    edges = {level: _stacked(bands, level) for level in levels}
    walk_edges = [
        (np.array([w[i][0] for w in walk_bands]), np.array([w[i][1] for w in walk_bands]))
        for i in range(len(levels))
    ]
    widths = [level / 100 for level in levels]
    wis = level_scoring.weighted_interval_score(median, list(edges.values()), widths, actual)
    walk_wis = level_scoring.weighted_interval_score(walk_median, walk_edges, widths, actual)
    seen = ~np.isnan(actual)
    low, high = _coverage_intervals([edges[level] for level in levels], actual)

    def at(cols: slice | int) -> dict[str, Any]:
        def part(x: np.ndarray) -> np.ndarray:
            return x[:, cols].reshape(len(x), -1)

        known = part(seen)
        column = 0 if isinstance(cols, slice) else cols + 1
        items = [
            _level_item(level, edges[level], actual, cols, (low[i, column], high[i, column]))
            for i, level in enumerate(levels)
        ]
        out: dict[str, Any] = {"by_level": items}
        mean_wis = _mean(part(wis)[known])
        out["wis"] = _number(mean_wis)
        out["wis_ratio"] = _number(
            scoring.interval_score_ratio(mean_wis, _mean(part(walk_wis)[known]))
        )
        if all(level in edges for level in level_scoring.PIT_LEVELS):
            picked = {lv: (part(lo), part(hi)) for lv, (lo, hi) in edges.items()}
            deciles = level_scoring.decile_quantiles(part(median), picked)
            out["pit"] = level_scoring.pit_counts(part(actual), deciles.reshape(9, -1))
        return out

    scores["overall"].update(at(slice(None)))
    for j, item in enumerate(scores["by_step"]):
        item.update(at(j))


def _coverage_intervals(
    edges: Sequence[tuple[np.ndarray, np.ndarray]], actual: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The 95% bootstrap interval of each level's coverage (levels x (1 + steps): overall,
    then at each step), every one from the same draws of origins, in one go."""
    seen = ~np.isnan(actual)
    folds = len(actual)
    hits = np.stack(
        [np.where(seen, scoring.inside_band(lower, upper, actual), 0.0) for lower, upper in edges]
    )  # levels x folds x steps
    known = np.broadcast_to(seen, hits.shape).astype(float)

    def columns(x: np.ndarray) -> np.ndarray:
        """Per fold: each level's total over all steps, then each level's at each step."""
        overall = x.sum(axis=2)  # levels x folds
        return (
            np.concatenate([overall[:, :, None], x], axis=2).transpose(1, 0, 2).reshape(folds, -1)
        )

    low, high = level_scoring.bootstrap_intervals(columns(hits), columns(known))
    shape = (len(edges), actual.shape[1] + 1)
    return low.reshape(shape), high.reshape(shape)


def _level_item(
    level: float,
    edges: tuple[np.ndarray, np.ndarray],
    actual: np.ndarray,
    cols: slice | int,
    interval: tuple[float, float],
) -> dict[str, Any]:
    """One level's coverage, its 95% interval (a bootstrap over whole origins:
    `_coverage_intervals`) and its mean interval score, on the columns `cols` of folds x
    steps."""
    lower, upper = (e[:, cols].reshape(len(e), -1) for e in edges)
    a = actual[:, cols].reshape(len(actual), -1)
    inside = np.where(np.isnan(a), np.nan, scoring.inside_band(lower, upper, a))
    known = ~np.isnan(a)
    score = scoring.interval_score(lower, upper, a, level / 100)
    return {
        "level": int(level) if level.is_integer() else level,
        "coverage": _number(_mean(inside[known])),
        "low": _number(interval[0]),
        "high": _number(interval[1]),
        "interval_score": _number(_mean(score[known])),
    }
