"""The forecast-quality benchmark stays runnable: its cutoffs, its scores and its table."""

from __future__ import annotations

import numpy as np
import pandas as pd
from bench import honesty, methods  # noqa: F401  (methods imports cleanly)
from bench.honesty import Fold, cutoffs, score, table


def test_cutoffs_spread_over_the_years_and_what_a_short_series_allows() -> None:
    long = cutoffs(3270)
    assert len(long) == 24 and long[0] == 1250 and long[-1] == 3250
    assert min(np.diff(long)) >= 20  # folds never overlap
    assert cutoffs(196) == [136, 156, 176]  # FB: three folds after the 120 sessions needed


def fold(actual: np.ndarray, last: float) -> Fold:
    ds = pd.DatetimeIndex(pd.bdate_range("2020-01-01", periods=40))
    train = np.full(20, last)
    band = (actual, actual - 1, actual + 1)
    return Fold("X", 20, ds[:20], train, ds[20:], actual, band, {})


def test_a_perfect_forecast_scores_zero_and_full_coverage() -> None:
    folds = [fold(np.arange(1.0, 21.0), 0.0), fold(np.arange(2.0, 22.0), 1.0)]
    scores = score(folds, [f.prophet for f in folds])
    assert all(s.mase == 0 and s.coverage == 1 for s in scores.values())
    text = table({"X": {"prophet": scores, "calibrated": scores}}, {"X": 2})
    assert "| X | 2 | prophet | 0.00 / 100% |" in text
    assert "| coverage of all 2 folds | | calibrated | 100% | 100% | 100% | 100% |" in text
