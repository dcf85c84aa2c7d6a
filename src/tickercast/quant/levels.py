"""Scores of a forecast given at several levels (central intervals) at once.

Pure functions on numpy arrays, beside `scoring` (one band) for the backtests and the bench:

- `weighted_interval_score`: Bracher et al.'s (2021) weighted interval score over K central
  intervals with the point forecast as the median, `(|y - m| / 2 + sum over k of α_k / 2 *
  IS_α_k) / (K + 1/2)`, `IS_α` the interval score (`scoring.interval_score`) of the interval
  with α = 1 - its width: lower is better, and it approaches the CRPS as levels are added;
- `bootstrap_interval`: a 95% interval of a share (a coverage) over forecasts made at many
  origins, resampling whole origins (the steps of one origin move together), or runs of
  consecutive origins, with a fixed seed so the same data give the same interval;
- `pit_counts`: how many actual values fell in each of the 10 bins between the 10%, 20%, ...,
  90% quantiles (`decile_quantiles` builds them from the levels 20, 40, 60 and 80 and the
  median): a calibrated forecast fills the bins alike;
- `christoffersen`: Christoffersen's (1998) test that the misses of a band come at the nominal
  rate and independently of the miss before (a storm's misses cluster): the likelihood ratios
  of unconditional coverage, of independence and their sum (conditional coverage) with its
  p-value from the chi-squared distribution with two degrees of freedom. Meant for one-step
  forecasts, the only step whose hits do not overlap.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike

from tickercast.quant.scoring import Floats, interval_score

PIT_BINS = 10
PIT_LEVELS = (20.0, 40.0, 60.0, 80.0)


def weighted_interval_score(
    median: ArrayLike,
    bands: Sequence[tuple[ArrayLike, ArrayLike]],
    widths: Sequence[float],
    actual: ArrayLike,
) -> Floats:
    """Element by element: the weighted interval score of the `bands` (lower, upper), one per
    central width in `widths` (fractions), around `median`."""
    if len(bands) != len(widths):
        raise ValueError(f"{len(bands)} bands for {len(widths)} widths")
    y = np.asarray(actual, dtype=float)
    total = 0.5 * np.abs(y - np.asarray(median, dtype=float))
    for (lower, upper), width in zip(bands, widths, strict=True):
        total = total + (1 - width) / 2 * interval_score(lower, upper, y, width)
    return np.asarray(total / (len(widths) + 0.5), dtype=float)


def bootstrap_interval(
    values: ArrayLike,
    resamples: int = 1000,
    seed: int = 20261207,
    confidence: float = 0.95,
    block: int = 1,
) -> tuple[float, float]:
    """The `confidence` interval of the mean of `values` (origins x steps, NaN not counted;
    1-d: one value per origin) from a bootstrap that draws whole origins, in runs of `block`
    consecutive ones, as many as there are; NaN when nothing is known."""
    v = np.asarray(values, dtype=float)
    v = v.reshape(len(v), -1)
    seen = ~np.isnan(v)
    sums = np.where(seen, v, 0.0).sum(axis=1, keepdims=True)
    counts = seen.sum(axis=1, keepdims=True)
    low, high = bootstrap_intervals(sums, counts, resamples, seed, confidence, block)
    return float(low[0]), float(high[0])


def bootstrap_intervals(
    sums: ArrayLike,
    counts: ArrayLike,
    resamples: int = 1000,
    seed: int = 20261207,
    confidence: float = 0.95,
    block: int = 1,
) -> tuple[Floats, Floats]:
    """`bootstrap_interval` of many shares at once, all from the same draws of origins: each
    column of `sums` and `counts` (origins x shares) is one share's total and number of known
    values per origin. One product of the draws' weights with them, not a loop: a backtest's
    every level at every step in one go. NaN where nothing is known."""
    s = np.asarray(sums, dtype=float)
    c = np.asarray(counts, dtype=float)
    n, k = s.shape
    low, high = np.full(k, math.nan), np.full(k, math.nan)
    known = c.sum(axis=0) > 0
    if not n or not known.any():
        return low, high
    weights = _draw_weights(n, resamples, seed, block)
    drawn = weights @ c[:, known]
    means = np.where(drawn > 0, (weights @ s[:, known]) / np.where(drawn > 0, drawn, 1), np.nan)
    tail = (1 - confidence) / 2
    # A resample that drew no known value has no mean: only those columns need nanquantile,
    # which goes column by column; the rest in one call.
    gaps = np.isnan(means).any(axis=0)
    edges = np.empty((2, means.shape[1]))
    edges[:, ~gaps] = np.quantile(means[:, ~gaps], [tail, 1 - tail], axis=0)
    if gaps.any():
        edges[:, gaps] = np.nanquantile(means[:, gaps], [tail, 1 - tail], axis=0)
    low[known], high[known] = edges
    return low, high


def _draw_weights(n: int, resamples: int, seed: int, block: int) -> Floats:
    """How often each of `n` origins is drawn in each resample (resamples x n): runs of
    `block` consecutive origins from random starts, wrapping round, `n` origins a resample."""
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, n, size=(resamples, -(-n // block)))
    picks = (starts[:, :, None] + np.arange(block)).reshape(resamples, -1)[:, :n] % n
    flat = (picks + n * np.arange(resamples)[:, None]).ravel()
    return np.bincount(flat, minlength=resamples * n).reshape(resamples, n).astype(float)


def decile_quantiles(
    median: ArrayLike, bands: Mapping[float, tuple[ArrayLike, ArrayLike]]
) -> Floats:
    """The 10%, 20%, ..., 90% quantiles (9 x points) from the bands at the levels 20, 40, 60
    and 80 (in percent; their edges are the 10/90, 20/80, 30/70 and 40/60% quantiles) and the
    median."""
    missing = [level for level in PIT_LEVELS if level not in bands]
    if missing:
        raise ValueError(f"the deciles need the levels {PIT_LEVELS}; missing {missing}")
    lowers = [bands[level][0] for level in reversed(PIT_LEVELS)]
    uppers = [bands[level][1] for level in PIT_LEVELS]
    rows = [*lowers, median, *uppers]
    return np.array([np.asarray(r, dtype=float) for r in rows])


def pit_counts(actual: ArrayLike, deciles: ArrayLike) -> list[int]:
    """How many known actual values fall in each of the 10 bins the 9 deciles (9 x points,
    increasing) cut: below the 10% quantile, between it and the 20%, ..., above the 90%. A
    value on a quantile counts in the bin above it."""
    y = np.asarray(actual, dtype=float).ravel()
    q = np.asarray(deciles, dtype=float).reshape(PIT_BINS - 1, -1)
    seen = ~np.isnan(y)
    bins = (q[:, seen] <= y[seen]).sum(axis=0)
    return [int(c) for c in np.bincount(bins, minlength=PIT_BINS)]


def _log_likelihood(misses: float, hits: float, rate: float) -> float:
    """log of rate**misses * (1 - rate)**hits, with 0 * log 0 = 0."""
    out = 0.0
    if misses:
        out += misses * math.log(rate) if rate > 0 else -math.inf
    if hits:
        out += hits * math.log(1 - rate) if rate < 1 else -math.inf
    return out


def christoffersen(inside: ArrayLike, coverage: float) -> dict[str, float]:
    """Christoffersen's likelihood ratios for a sequence of hits (True: inside the band), in
    time order, of a band of nominal `coverage`: `lr_uc` (misses at the rate 1 - coverage),
    `lr_ind` (a miss as likely after a miss as after a hit), `lr_cc` their sum, and `p_value`
    of `lr_cc` (chi-squared, 2 degrees of freedom: exp(-lr_cc / 2)); NaN with fewer than two."""
    hit = np.asarray(inside, dtype=bool).ravel()
    if len(hit) < 2:
        nan = math.nan
        return {"lr_uc": nan, "lr_ind": nan, "lr_cc": nan, "p_value": nan}
    miss = ~hit
    n1 = float(miss.sum())
    n0 = len(miss) - n1
    expected = 1 - coverage
    lr_uc = -2 * (_log_likelihood(n1, n0, expected) - _log_likelihood(n1, n0, n1 / len(miss)))
    before, after = miss[:-1], miss[1:]
    n01, n00 = float((~before & after).sum()), float((~before & ~after).sum())
    n11, n10 = float((before & after).sum()), float((before & ~after).sum())
    pi0 = n01 / (n00 + n01) if n00 + n01 else 0.0
    pi1 = n11 / (n10 + n11) if n10 + n11 else 0.0
    pi = (n01 + n11) / (len(after))
    markov = _log_likelihood(n01, n00, pi0) + _log_likelihood(n11, n10, pi1)
    lr_ind = -2 * (_log_likelihood(n01 + n11, n00 + n10, pi) - markov)
    lr_cc = lr_uc + lr_ind
    return {"lr_uc": lr_uc, "lr_ind": lr_ind, "lr_cc": lr_cc, "p_value": math.exp(-lr_cc / 2)}
