"""`python -m bench.honesty`'s tables of every level: the calibrated band's 23 quantiles (the
11 central levels below and the median) beside the normal curve on the same volatility, the
random walk with quantiles of past changes (the Forecast Hub's baseline, `walk.quantile_walk`)
and the normal curve on the last year's spread (the band before the calibrated volatility).

- coverage at each level by step, pooled with 95% intervals (a block bootstrap over origins);
- coverage at each level in the calm, middle and stormy third of the origins;
- coverage at each level by calendar year, with each year's origins and the interval of its
  largest miss (a bootstrap over runs of `YEAR_BLOCK` origins within the year: a year with few
  origins has a wide one);
- Christoffersen's conditional coverage test at 50, 80 and 95% on the one-step forecasts, per
  series in time order (origins `EVERY` sessions apart: one-step hits do not overlap);
- the weighted interval score (Bracher et al. 2021, in units of the origin's price) of each band
  over another's, by step, with 95% intervals.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tickercast.quant import levels as level_scores
from tickercast.quant import scoring

if TYPE_CHECKING:
    from bench.honesty import Outcome

LEVELS = (10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 95.0, 98.0)
WIDTHS = tuple(level / 100 for level in LEVELS)
HORIZONS = (1, 5, 10, 20)
TESTED = (50.0, 80.0, 95.0)  # Christoffersen's test
CALIBRATED = "calibrated"
NORMAL = "calibrated, normal curve"
QUANTILE_WALK = "random walk, past changes' quantiles"
YEAR_NORMAL = "normal curve, year's spread"
BANDS = (CALIBRATED, NORMAL, QUANTILE_WALK, YEAR_NORMAL)
DETAILED = (CALIBRATED, NORMAL)  # the bands shown by step and by third, not only pooled
RATIOS = ((CALIBRATED, NORMAL), (CALIBRATED, QUANTILE_WALK), (CALIBRATED, YEAR_NORMAL))
BOOTSTRAP = 400
BLOCK = 20  # origins per bootstrap block, pooled
YEAR_BLOCK = 4  # origins per bootstrap block within a year (20 sessions: one horizon)


@dataclass(frozen=True)
class LevelForecast:
    """One origin's band at every level: the median and each level's edges (levels x steps)."""

    median: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


def from_bands(
    median: np.ndarray, bands: dict[float, tuple[np.ndarray, np.ndarray]]
) -> LevelForecast:
    """From `calibrated.forecast_levels`' bands (level in percent to lower and upper edge)."""
    return LevelForecast(
        median,
        np.array([bands[level][0] for level in LEVELS]),
        np.array([bands[level][1] for level in LEVELS]),
    )


def from_pairs(median: np.ndarray, pairs: Sequence[tuple[np.ndarray, np.ndarray]]) -> LevelForecast:
    """From one (lower, upper) pair per level of `LEVELS`, in order."""
    return LevelForecast(median, np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs]))


# --- arrays over origins ---------------------------------------------------------------------


@dataclass
class Levels:
    """Every origin's level forecasts of the bands present at all of them, as arrays."""

    outcomes: list[Outcome]

    def __post_init__(self) -> None:
        self.actual = np.array([o.actual for o in self.outcomes])
        self.last = np.array([o.last for o in self.outcomes])[:, None]
        self.series = np.array([o.series for o in self.outcomes])
        self.years = np.array([o.year for o in self.outcomes])
        self.bands = [b for b in BANDS if all(b in o.levels for o in self.outcomes)]

    def inside(self, band: str) -> np.ndarray:
        """origins x levels x steps: the actual value within the level's band."""
        lower = np.array([o.levels[band].lower for o in self.outcomes])
        upper = np.array([o.levels[band].upper for o in self.outcomes])
        return (lower <= self.actual[:, None, :]) & (self.actual[:, None, :] <= upper)

    def wis(self, band: str) -> np.ndarray:
        """origins x steps: the weighted interval score over every level, per origin's price."""
        forecasts = [o.levels[band] for o in self.outcomes]
        median = np.array([f.median for f in forecasts]) / self.last
        lower = np.array([f.lower for f in forecasts]) / self.last[:, :, None]
        upper = np.array([f.upper for f in forecasts]) / self.last[:, :, None]
        pairs = [(lower[:, i], upper[:, i]) for i in range(len(LEVELS))]
        return level_scores.weighted_interval_score(median, pairs, WIDTHS, self.actual / self.last)

    def resamples(self, rows: np.ndarray | None = None, block: int = BLOCK) -> list[np.ndarray]:
        """Block-bootstrap draws of origin indices (of `rows`, all by default): runs of `block`
        consecutive origins within a series, as many as the series has there."""
        rows = np.arange(len(self.outcomes)) if rows is None else rows
        rng = np.random.default_rng(20261207)
        groups = [rows[self.series[rows] == s] for s in dict.fromkeys(self.series[rows])]
        draws = []
        for _ in range(BOOTSTRAP):
            picks = []
            for group in groups:
                starts = np.arange(0, len(group), block)
                picks += [group[b : b + block] for b in rng.choice(starts, size=len(starts))]
            draws.append(np.concatenate(picks))
        return draws


def _shown(inside: np.ndarray) -> np.ndarray:
    """origins x levels x the steps of `HORIZONS`."""
    return inside[:, :, [h - 1 for h in HORIZONS]]


def _pct(value: float) -> str:
    return f"{100 * value:.1f}"


def _largest_miss(coverage: np.ndarray) -> tuple[float, int]:
    off = np.abs(coverage - np.array(WIDTHS))
    return float(np.max(off)), int(np.argmax(off))


def _head(first: str, extra: Sequence[str] = ()) -> list[str]:
    cells = [first, *(f"{level:g}%" for level in LEVELS), *extra]
    return ["| " + " | ".join(cells) + " |", "|---" * len(cells) + "|"]


# --- the tables ------------------------------------------------------------------------------


def step_table(data: Levels) -> str:
    """Coverage at each level by step (the `DETAILED` bands) and pooled over the steps of
    `HORIZONS` (with its 95% interval), and the largest miss of any level."""
    lines = _head("band, step", ["largest miss"])
    draws = data.resamples()
    for band in data.bands:
        inside = data.inside(band)
        for h in HORIZONS if band in DETAILED else ():
            cov = inside[:, :, h - 1].mean(axis=0)
            cells = [_pct(c) for c in cov] + [_pct(_largest_miss(cov)[0])]
            lines.append(f"| {band}, h={h} | " + " | ".join(cells) + " |")
        shown = _shown(inside)
        cov = shown.mean(axis=(0, 2))
        spread = np.quantile([shown[r].mean(axis=(0, 2)) for r in draws], [0.025, 0.975], axis=0)
        cells = [
            f"{_pct(c)} [{_pct(lo)}, {_pct(hi)}]" for c, lo, hi in zip(cov, *spread, strict=True)
        ]
        lines.append(
            f"| **{band}, pooled** | " + " | ".join(cells) + f" | {_pct(_largest_miss(cov)[0])} |"
        )
    return "\n".join(lines)


def third_table(data: Levels) -> str:
    """Coverage at each level (steps of `HORIZONS` pooled) in each volatility third, for the
    `DETAILED` bands."""
    regime = scoring.regimes([o.trailing for o in data.outcomes])
    lines = _head("band, third", ["largest miss"])
    for band in (b for b in data.bands if b in DETAILED):
        shown = _shown(data.inside(band))
        for i, name in enumerate(scoring.REGIMES):
            cov = shown[regime == i].mean(axis=(0, 2))
            cells = [_pct(c) for c in cov] + [_pct(_largest_miss(cov)[0])]
            lines.append(f"| {band}, {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def year_table(data: Levels, band: str = CALIBRATED) -> str:
    """Coverage of `band` at each level (steps of `HORIZONS` pooled) in each calendar year of
    the origins, with the year's origins and its largest miss with that level's interval."""
    shown = _shown(data.inside(band))
    lines = _head("year (origins)", ["largest miss [95%]"])
    for year in sorted(set(data.years.tolist())):
        rows = np.flatnonzero(data.years == year)
        cov = shown[rows].mean(axis=(0, 2))
        miss, worst = _largest_miss(cov)
        draws = [shown[r, worst].mean() for r in data.resamples(rows, YEAR_BLOCK)]
        low, high = np.quantile(draws, [0.025, 0.975])
        cells = [_pct(c) for c in cov]
        cells.append(f"{_pct(miss)} at {LEVELS[worst]:g}% ({_pct(low)}-{_pct(high)})")
        lines.append(f"| {year} ({len(rows)}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def chi2_survival(statistic: float, df: int) -> float:
    """P(chi-squared with an even `df` > `statistic`): exp(-x/2) * sum over i < df/2 of
    (x/2)**i / i!."""
    half = statistic / 2
    if math.isnan(half):
        return math.nan
    terms, term = 0.0, 1.0
    for i in range(df // 2):
        term = 1.0 if i == 0 else term * half / i
        terms += term
    return math.exp(-half) * terms


def christoffersen_table(data: Levels) -> str:
    """Christoffersen's conditional coverage test on the one-step forecasts, per series (in
    time order) and over all series (the sum of their statistics, 2 degrees of freedom each)."""
    cells = [f"{level:g}%: coverage, LR_cc, p" for level in TESTED]
    lines = ["| band, series | " + " | ".join(cells) + " |", "|---" * (len(TESTED) + 1) + "|"]
    names = list(dict.fromkeys(data.series))
    for band in (b for b in (CALIBRATED, NORMAL) if b in data.bands):
        inside = data.inside(band)[:, :, 0]
        results: dict[str, list[str]] = {name: [] for name in [*names, "all"]}
        for level in TESTED:
            hits = inside[:, LEVELS.index(level)]
            total = 0.0
            for name in names:
                test = level_scores.christoffersen(hits[data.series == name], level / 100)
                total += test["lr_cc"]
                results[name].append(
                    f"{_pct(hits[data.series == name].mean())}, {test['lr_cc']:.1f}, "
                    f"{test['p_value']:.2f}"
                )
            p_all = chi2_survival(total, 2 * len(names))
            results["all"].append(f"{_pct(hits.mean())}, {total:.1f}, {p_all:.2f}")
        for name, row in results.items():
            lines.append(f"| {band}, {name} | " + " | ".join(row) + " |")
    return "\n".join(lines)


def ratio_cell(ours: np.ndarray, theirs: np.ndarray, draws: list[np.ndarray]) -> str:
    value = ours.mean() / theirs.mean()
    low, high = np.quantile([ours[r].mean() / theirs[r].mean() for r in draws], [0.025, 0.975])
    return f"{value:.3f} [{low:.3f}, {high:.3f}]"


def wis_table(data: Levels) -> str:
    """The weighted interval score of one band over another's, by step and over all 20."""
    cells = [f"h={h}" for h in HORIZONS] + ["all steps"]
    lines = ["| WIS of | over | " + " | ".join(cells) + " |", "|---" * (len(cells) + 2) + "|"]
    draws = data.resamples()
    scores = {band: data.wis(band) for band in data.bands}
    pick: list[Callable[[np.ndarray], np.ndarray]] = [
        *(lambda s, h=h: s[:, h - 1] for h in HORIZONS),
        lambda s: s.mean(axis=1),
    ]
    for ours, theirs in RATIOS:
        if ours in scores and theirs in scores:
            row = [ratio_cell(p(scores[ours]), p(scores[theirs]), draws) for p in pick]
            lines.append(f"| {ours} | {theirs} | " + " | ".join(row) + " |")
    return "\n".join(lines)


def report(label: str, outcomes: list[Outcome]) -> str:
    """Every table of the levels, for one set of series."""
    data = Levels([o for o in outcomes if o.levels])
    if not data.outcomes:
        return ""
    count = len(data.outcomes)
    parts = [
        f"**{label}: coverage at every level by step, {count} origins**",
        step_table(data),
        f"**{label}: every level by volatility third**",
        third_table(data),
        f"**{label}: every level of the calibrated band by calendar year (origins)**",
        year_table(data),
        f"**{label}: Christoffersen's conditional coverage test, one-step forecasts**",
        christoffersen_table(data),
        f"**{label}: weighted interval score over the {len(LEVELS)} levels, ratios**",
        wis_table(data),
    ]
    return "\n\n".join(parts)
