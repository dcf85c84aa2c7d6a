"""The record's scores at every level a stored step keeps: the weighted interval score, how far
a price fell outside the 95% band, and, per group, coverage by level with its 95% interval and
the PIT counts.

A step stored with the quantiles at every level of `LEVELS` is scored on them; one stored
before they were kept (or from an answer without them) on its own band alone, at the level of
its interval width, so older forecasts count where they can and nowhere else.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from tickercast.quant import levels as quant_levels
from tickercast.quant.scoring import Floats
from tickercast.record.tables import LEVELS

WIDTHS = tuple(level / 100 for level in LEVELS)
MISS_LEVEL = 95
PIT_LEVELS = tuple(int(level) for level in quant_levels.PIT_LEVELS)


def has_levels(frame: pd.DataFrame) -> np.ndarray:
    """Which rows keep the quantiles at every level."""
    names = [f"{side}_{level}" for level in LEVELS for side in ("lower", "upper")]
    if not set(names) <= set(frame.columns):
        return np.zeros(len(frame), dtype=bool)
    return np.asarray(frame[names].notna().all(axis=1), dtype=bool)


def _column(frame: pd.DataFrame, name: str) -> Floats:
    return np.asarray(frame[name].to_numpy(dtype=float), dtype=float)


def bands(frame: pd.DataFrame, full: bool, interval_width: float) -> list[tuple[Floats, Floats]]:
    """The (lower, upper) of the rows at every level (`full`) or at their own band alone."""
    if not full:
        return [(_column(frame, "yhat_lower"), _column(frame, "yhat_upper"))]
    return [(_column(frame, f"lower_{k}"), _column(frame, f"upper_{k}")) for k in LEVELS]


def widths(full: bool, interval_width: float) -> list[float]:
    return list(WIDTHS) if full else [interval_width]


def wis(frame: pd.DataFrame, actual: Floats, interval_width: float) -> Floats:
    """Each row's weighted interval score over the levels it keeps (its own band in older
    rows)."""
    out = np.full(len(frame), np.nan)
    full = has_levels(frame)
    for which in (True, False):
        at = full == which
        if at.any():
            rows = frame[at]
            out[at] = quant_levels.weighted_interval_score(
                _column(rows, "yhat"),
                bands(rows, which, interval_width),
                widths(which, interval_width),
                actual[at],
            )
    return out


def miss_95(frame: pd.DataFrame, actual: Floats) -> Floats:
    """How far outside its 95% band each price fell, in the band's half-widths (0 inside; NaN
    without that level)."""
    name = f"lower_{MISS_LEVEL}"
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    lower, upper = _column(frame, name), _column(frame, f"upper_{MISS_LEVEL}")
    half = (upper - lower) / 2
    beyond = np.maximum(np.maximum(lower - actual, actual - upper), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(half > 0, beyond / half, np.nan)


def _block(origins: int) -> int:
    """Runs of about the cube root of the forecasts (neighbours overlap in time, so their
    steps move together)."""
    return max(1, round(origins ** (1 / 3)))


def level_rows(scores: pd.DataFrame, interval_width: float) -> list[dict[str, Any]]:
    """Per level: the steps scored, those inside its band, and the 95% interval of the
    coverage from a block bootstrap over the forecasts (by as_of). Steps without the level's
    quantiles count at their own band's level only."""
    own = round(interval_width * 100, 6)
    out = []
    actual = _column(scores, "actual") if len(scores) else np.zeros(0)
    for level in sorted({*LEVELS, own}):
        if level in LEVELS:
            lower, upper = _column(scores, f"lower_{level}"), _column(scores, f"upper_{level}")
        else:
            lower, upper = np.full(len(scores), np.nan), np.full(len(scores), np.nan)
        if level == own:
            missing = np.isnan(lower)
            lower = np.where(missing, _column(scores, "yhat_lower"), lower)
            upper = np.where(missing, _column(scores, "yhat_upper"), upper)
        seen = ~np.isnan(lower) & ~np.isnan(upper)
        if not seen.any():
            continue
        inside = np.where(seen, (lower <= actual) & (actual <= upper), np.nan)
        low, high = _bootstrap(scores, inside)
        out.append(
            {
                "level": float(level),
                "scored": int(seen.sum()),
                "inside": int(np.nansum(inside)),
                "low": low,
                "high": high,
            }
        )
    return out


def _bootstrap(scores: pd.DataFrame, inside: Floats) -> tuple[float | None, float | None]:
    """The 95% interval of the share inside, drawing whole forecasts in runs of neighbours (in
    order of as_of); forecasts without the level are not drawn."""
    known = scores.assign(hit=inside)[~np.isnan(inside)]
    order = known.sort_values(["as_of", "forecast_id"])["forecast_id"]
    origin = pd.Series(np.arange(order.nunique()), index=order.unique())
    table = known.assign(origin=origin.reindex(known["forecast_id"]).to_numpy()).pivot_table(
        index="origin", columns="step", values="hit"
    )
    low, high = quant_levels.bootstrap_interval(table.to_numpy(float), block=_block(len(table)))
    return (None, None) if math.isnan(low) else (low, high)


def pit(scores: pd.DataFrame) -> dict[str, int]:
    """The PIT counts of the steps that keep the deciles' levels (`pit_0` ... `pit_9`)."""
    full = has_levels(scores)
    counts = [0] * quant_levels.PIT_BINS
    if full.any():
        rows = scores[full]
        median = _column(rows, "yhat")
        by_level = {
            float(k): (_column(rows, f"lower_{k}"), _column(rows, f"upper_{k}")) for k in PIT_LEVELS
        }
        deciles = quant_levels.decile_quantiles(median, by_level)
        counts = quant_levels.pit_counts(_column(rows, "actual"), deciles)
    return {f"pit_{i}": int(c) for i, c in enumerate(counts)}


def wis_sums(scores: pd.DataFrame) -> dict[str, float | int]:
    """The steps with both weighted interval scores, and each one's sum over them."""
    if scores.empty:
        return {"wis_scored": 0, "sum_wis": 0.0, "sum_walk_wis": 0.0}
    ours, walk = _column(scores, "wis"), _column(scores, "walk_wis")
    both = ~np.isnan(ours) & ~np.isnan(walk)
    return {
        "wis_scored": int(both.sum()),
        "sum_wis": float(ours[both].sum()),
        "sum_walk_wis": float(walk[both].sum()),
    }
