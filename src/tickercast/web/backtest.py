"""How good would such forecasts have been? Hold out the last sessions and find out.

For up to `MAX_FOLDS` cut points, the model is fitted on the data before the cut and asked for
the next `holdout` sessions, which we know. Each fold is scored by the mean absolute percentage
error (MAPE) of the model and of the naive forecast that repeats the last known price, and by
how many actual prices fell inside the model's uncertainty band. Steps are compared by position
(the k-th forecast step against the k-th held-out session).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tickercast.contract import iso_dates

MAX_FOLDS = 3
MAX_HOLDOUT = 60
MIN_TRAIN = 30

# (dates, values, periods) -> the forecast table with yhat, yhat_lower, yhat_upper.
ForecastFn = Callable[[list[str], list[float], int], pd.DataFrame]


@dataclass(frozen=True)
class Fold:
    train_end: str
    test_start: str
    test_end: str
    model_mape: float
    naive_mape: float
    coverage: float


@dataclass(frozen=True)
class Backtest:
    holdout: int
    interval_width: float
    folds: list[Fold] = field(default_factory=list)
    note: str = ""

    @property
    def model_mape(self) -> float | None:
        return _mean([f.model_mape for f in self.folds])

    @property
    def naive_mape(self) -> float | None:
        return _mean([f.naive_mape for f in self.folds])

    @property
    def coverage(self) -> float | None:
        return _mean([f.coverage for f in self.folds])

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(model_mape=self.model_mape, naive_mape=self.naive_mape, coverage=self.coverage)
        out["summary"] = self.summary()
        return out

    def summary(self) -> str:
        if not self.folds:
            return self.note
        model, naive, coverage = self.model_mape, self.naive_mape, self.coverage
        assert model is not None and naive is not None and coverage is not None
        better = "better" if model < naive else "worse"
        return (
            f"Over {len(self.folds)} past {self.holdout}-session periods, the model missed by "
            f"{model:.1f}% on average, {better} than repeating the last price ({naive:.1f}%). "
            f"Its {self.interval_width:.0%} band held {coverage:.0%} of the actual prices."
        )


def _mean(values: list[float]) -> float | None:
    return round(float(np.mean(values)), 3) if values else None


def plan(n: int, horizon: int) -> tuple[int, list[int]]:
    """The holdout length and the cut points (training rows before each), latest first."""
    holdout = max(1, min(horizon, MAX_HOLDOUT, n // 6))
    cuts = []
    for k in range(1, MAX_FOLDS + 1):
        cut = n - k * holdout
        if cut < max(MIN_TRAIN, n // 2):
            break
        cuts.append(cut)
    return holdout, cuts


def mape(actual: np.ndarray, predicted: np.ndarray) -> float:
    keep = actual != 0
    if not keep.any():
        return float("nan")
    return float(np.mean(np.abs((actual[keep] - predicted[keep]) / actual[keep])) * 100)


def score(actual: np.ndarray, forecast: pd.DataFrame, last_value: float) -> tuple[float, ...]:
    yhat = forecast["yhat"].to_numpy(float)[: len(actual)]
    lower = forecast["yhat_lower"].to_numpy(float)[: len(actual)]
    upper = forecast["yhat_upper"].to_numpy(float)[: len(actual)]
    inside = (actual >= lower) & (actual <= upper)
    naive = np.full(len(actual), last_value)
    return (
        round(mape(actual, yhat), 3),
        round(mape(actual, naive), 3),
        round(float(inside.mean()), 3),
    )


def run(series: pd.Series, horizon: int, forecast: ForecastFn, interval_width: float) -> Backtest:
    """Backtest `series` (a float Series on a DatetimeIndex, no NaN) with `forecast`."""
    n = len(series)
    holdout, cuts = plan(n, horizon)
    if not cuts:
        need = MIN_TRAIN + holdout
        note = f"Too little history for a backtest ({n} sessions; at least {need} needed)."
        return Backtest(holdout=holdout, interval_width=interval_width, note=note)
    dates = iso_dates(pd.DatetimeIndex(series.index))
    values = series.to_numpy(float)
    folds = []
    for cut in cuts:
        actual = values[cut : cut + holdout]
        table = forecast(dates[:cut], values[:cut].tolist(), holdout)
        model_mape, naive_mape, coverage = score(actual, table, float(values[cut - 1]))
        folds.append(
            Fold(
                train_end=dates[cut - 1],
                test_start=dates[cut],
                test_end=dates[cut + holdout - 1],
                model_mape=model_mape,
                naive_mape=naive_mape,
                coverage=coverage,
            )
        )
    return Backtest(holdout=holdout, interval_width=interval_width, folds=folds)
