"""`python -m bench.history`: how much history should the model get for a ticker page?

The web app sends every ticker's forecast the same fixed number of sessions (or all the ticker
has, when fewer), whatever window the chart shows. This measures the calibrated forecast (the
pages' default, fitted by the fast engine as the service does) with training histories of
`LENGTHS` sessions at the same cutoffs: cutoffs spread over each embedded series where the
longest length fits, so every length is scored on the same days. Reported per length: MASE
(mean absolute error / the random walk's) and 80% band coverage at horizons 1, 5 and 20, over
all folds, and the seconds a fit took (median).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from bench.honesty import WIDTH, Prices, embedded, log
from tickercast.contract import ForecastRequest
from tickercast.model import calibrated, forecasting

LENGTHS = (250, 500, 1250, 2500)
HORIZONS = (1, 5, 20, 60)
STEPS = max(HORIZONS)
CUTOFFS = 12


def folds(series: Prices, longest: int, count: int) -> list[int]:
    if len(series.y) < longest + STEPS:
        return []
    return [int(c) for c in np.linspace(longest, len(series.y) - STEPS, count)]


def fold_forecast(series: Prices, cutoff: int, length: int) -> tuple[np.ndarray, ...]:
    start = max(0, cutoff - length)
    ds, y = series.ds[start:cutoff], series.y[start:cutoff]
    future = series.ds[cutoff : cutoff + STEPS]
    req = ForecastRequest(ds, y, STEPS, "XNYS", False, WIDTH, "calibrated")
    out = calibrated.forecast(req, future, forecasting.point_fit("fast"))
    return out["yhat"], out["yhat_lower"], out["yhat_upper"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.history", description=__doc__)
    parser.add_argument("--cutoffs", type=int, default=CUTOFFS, help="cutoffs per series")
    args = parser.parse_args(argv)
    forecasting.load_prophet()
    series = embedded()
    tasks = [(s, c) for s in series for c in folds(s, max(LENGTHS), args.cutoffs)]
    log(f"{len(tasks)} folds x {len(LENGTHS)} lengths")
    print("| sessions | " + " | ".join(f"h={h} MASE / cov." for h in HORIZONS) + " | fit s |")
    print("|---" * (len(HORIZONS) + 2) + "|")
    for length in LENGTHS:
        errors, walks, inside, seconds = [], [], [], []
        for s, cutoff in tasks:
            started = time.perf_counter()
            yhat, lower, upper = fold_forecast(s, cutoff, length)
            seconds.append(time.perf_counter() - started)
            actual, last = s.y[cutoff : cutoff + STEPS], s.y[cutoff - 1]
            errors.append(np.abs(yhat - actual))
            walks.append(np.abs(last - actual))
            inside.append((lower <= actual) & (actual <= upper))
        err, walk, hit = np.array(errors), np.array(walks), np.array(inside)
        cells = [
            f"{err[:, h - 1].mean() / walk[:, h - 1].mean():.3f} / {hit[:, h - 1].mean():.0%}"
            for h in HORIZONS
        ]
        print(f"| {length} | " + " | ".join(cells) + f" | {statistics.median(seconds):.2f} |")
    log("done")


if __name__ == "__main__":
    pd.set_option("display.width", 120)
    main()
