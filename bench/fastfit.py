"""The in-process fit against CmdStan: one fit on the same prepared data, a cold forecast
against the reference, and the peak memory of a process doing only fast fits.

The cold forecast goes over HTTP with `engine: "fast"` in the body. `measure_engine_costs`
puts the requests the fast engine serves (a default forecast, a calibrated one, a 50-origin
calibrated backtest and a repeat) side by side with the reference's one forecast, cold.

`python -m bench.fastfit memory ENGINE ROWS COUNT` is the child that measures memory;
`python -m bench.fastfit agreement` prints how close the fast fit's forecasts are to CmdStan's
on every embedded ticker at N = 250, 1,250 and 2,500, with freq D, B and XNYS (every row,
days the history never has included), and the calibrated forecast's range on the same
requests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from bench import floor
from bench.cases import PERIODS, TIMEOUT, check_rows
from bench.data import Series, Windows, load_series, request_body
from bench.honesty import Prices, embedded, external
from bench.procs import BENCH_KEY, ROOT, Service
from bench.timing import Samples, cpu_seconds, ratio, timed_post


@dataclass
class FitPair:
    """One fit on the same Stan inputs: CmdStan's optimize call, and the fast engine."""

    rows: int
    cmdstan: Samples = field(default_factory=Samples)
    fast: Samples = field(default_factory=Samples)
    cmdstan_cpu: Samples = field(default_factory=Samples)
    fast_cpu: Samples = field(default_factory=Samples)


# The cases side by side with the reference's one forecast, and the targets: the least
# reference / case ratio, or (the repeat) the most milliseconds.
COSTS_ROWS = 1250
BACKTEST_HORIZON, BACKTEST_CUTOFFS = 20, 50
COST_CASES = {
    "default": ("cold POST /, default method (fast fit)", 20.0),
    "calibrated": ("cold POST /, method=calibrated", 30.0),
    "backtest": (
        f"cold POST /backtest, method=calibrated, {BACKTEST_CUTOFFS} origins x "
        f"{BACKTEST_HORIZON} sessions",
        1.0,
    ),
}
REPEAT_CASE = ("repeat of the calibrated forecast (cached)", 5.0)


@dataclass
class EngineCosts:
    """Seconds per request, each case on windows of its own, taking turns with the reference."""

    rows: int = COSTS_ROWS
    reference: Samples = field(default_factory=Samples)
    ours: dict[str, Samples] = field(default_factory=dict)  # by COST_CASES key, and "repeat"


@dataclass
class FastResults:
    fits: list[FitPair] = field(default_factory=list)
    cold_rows: int = 0
    cold_fast: Samples = field(default_factory=Samples)
    cold_reference: Samples = field(default_factory=Samples)
    peak_mb: dict[str, float] = field(default_factory=dict)
    costs: EngineCosts | None = None


def fast_timed(stan_data: dict[str, object]) -> tuple[float, float]:
    """Wall and CPU seconds of one in-process fit on Prophet's Stan inputs."""
    from tickercast.model.prophet_seam import fastfit

    cpu = cpu_seconds()
    started = time.perf_counter()
    fastfit.optimize(stan_data)
    return time.perf_counter() - started, cpu_seconds() - cpu


def add(wall: Samples, cpu: Samples, timed: tuple[float, float]) -> None:
    wall.add(timed[0])
    cpu.add(timed[1])


def measure_fits(series: Series, windows: Windows, rows: int, reps: int) -> FitPair:
    """Both optimizers on the same fresh windows, taking turns (who goes first alternates)."""
    pair = FitPair(rows)
    fast_timed(floor.stan_inputs(series.frame(0, rows))[0])  # imports and first-call costs
    for i, start in enumerate(windows.take(rows, reps)):
        frame = series.frame(start, rows)
        stan_data = floor.stan_inputs(frame)[0]
        runs = [
            lambda f=frame: add(pair.cmdstan, pair.cmdstan_cpu, floor.optimize_timed(f)),
            lambda d=stan_data: add(pair.fast, pair.fast_cpu, fast_timed(d)),
        ]
        for run in runs[:: -1 if i % 2 else 1]:
            run()
    return pair


def fast_body(series: Series, start: int, rows: int) -> bytes:
    body = json.loads(request_body(series, start, rows, BENCH_KEY, PERIODS))
    return json.dumps(body | {"engine": "fast"}).encode()


def measure_cold(
    results: FastResults,
    ours: Service,
    ref: Service,
    series: Series,
    windows: Windows,
    rows: int,
    reps: int,
) -> None:
    """Cold forecasts on fresh windows: `engine: "fast"` against the reference, taking turns."""
    from tickercast.model.prophet_seam import forecasting

    forecasting.load_prophet()
    results.cold_rows = rows
    warm, *starts = windows.take(rows, reps + 1)
    with httpx.Client(timeout=TIMEOUT) as ours_client, httpx.Client(timeout=TIMEOUT) as ref_client:

        def fast(start: int, into: FastResults = results) -> None:
            seconds, answer = timed_post(ours_client, ours.url, fast_body(series, start, rows))
            check_rows(answer, rows)
            into.cold_fast.add(seconds)

        def reference(start: int) -> None:
            body = request_body(series, start, rows, None, PERIODS)
            results.cold_reference.add(timed_post(ref_client, ref.url, body)[0])

        # one untimed round: warms both up at this size
        untimed = FastResults()
        fast(warm, untimed)
        timed_post(ref_client, ref.url, request_body(series, warm, rows, None, PERIODS))
        for i, start in enumerate(starts):
            runs = [fast, reference]
            for run in runs[:: -1 if i % 2 else 1]:
                run(start)


def cost_body(series: Series, start: int, rows: int, **extra: object) -> bytes:
    ds, y = series.window(start, rows)
    body = {"key": BENCH_KEY, "ds": ds, "y": y, "freq": "XNYS", **extra}
    return json.dumps(body).encode()


def measure_engine_costs(
    ours: Service, ref: Service, series: Series, windows: Windows, reps: int
) -> EngineCosts:
    """Rounds of: the reference's forecast, then ours (a default forecast, a calibrated one and
    its repeat, a 50-origin calibrated backtest), each on a fresh window, who goes first
    alternating; one untimed round first."""
    costs, rows = EngineCosts(), COSTS_ROWS
    backtest = {"method": "calibrated", "horizon": BACKTEST_HORIZON, "cutoffs": BACKTEST_CUTOFFS}
    with httpx.Client(timeout=TIMEOUT) as client:

        def reference(into: EngineCosts) -> None:
            (start,) = windows.take(rows, 1)
            body = request_body(series, start, rows, None, PERIODS)
            into.reference.add(timed_post(client, ref.url, body)[0])

        def ours_round(into: EngineCosts) -> None:
            def timed(name: str, url: str, body: bytes) -> None:
                seconds, answer = timed_post(client, url, body)
                into.ours.setdefault(name, Samples()).add(seconds)
                if name != "backtest":
                    check_rows(answer, rows)

            starts = windows.take(rows, 3)
            timed("default", ours.url, cost_body(series, starts[0], rows, periods=PERIODS))
            calibrated = cost_body(series, starts[1], rows, periods=PERIODS, method="calibrated")
            timed("calibrated", ours.url, calibrated)
            timed("repeat", ours.url, calibrated)
            backtest_body = cost_body(series, starts[2], rows, **backtest)
            timed("backtest", f"{ours.url}/backtest", backtest_body)

        for run in (reference, ours_round):
            run(EngineCosts())  # untimed: both warm at this size
        for i in range(reps):
            turns = [reference, ours_round]
            for run in turns[:: -1 if i % 2 else 1]:
                run(costs)
    return costs


def engine_costs_table(costs: EngineCosts, check: Callable[[str, bool], str]) -> list[str]:
    """The cases against the reference's one forecast, each target checked by `check`."""
    reference = costs.reference.median
    lines = [
        f"Cold, N = {costs.rows:,} sessions (freq XNYS), one worker, taking turns with the "
        f"reference's forecast ({len(costs.reference)} reps, median "
        f"{reference * 1000:,.1f} ms); each case on windows of its own.",
        "",
        "| case | reps | median ms | reference / case | target | |",
        "|---|---:|---:|---:|---|---|",
    ]
    for key, (label, least) in COST_CASES.items():
        samples = costs.ours[key]
        x = ratio(reference, samples.median)
        mark = check(f"{label}, N = {costs.rows:,}: {x:.2f}x the reference", x >= least)
        lines.append(
            f"| {label} | {len(samples)} | {samples.median_ms:,.1f} | {x:.2f}x "
            f"| ≥ {least:g}x | {mark} |"
        )
    label, most = REPEAT_CASE
    repeat = costs.ours["repeat"]
    mark = check(f"{label}: {repeat.median_ms:.1f} ms", repeat.median_ms < most)
    lines.append(
        f"| {label} | {len(repeat)} | {repeat.median_ms:,.1f} "
        f"| {ratio(reference, repeat.median):.0f}x | < {most:g} ms | {mark} |"
    )
    return lines


def peak_memory_mb(engine: str, rows: int, count: int) -> float:
    """VmHWM of a fresh process that loads Prophet and answers `count` cold requests."""
    command = [sys.executable, "-m", "bench.fastfit", "memory", engine, str(rows), str(count)]
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def _memory_child(engine: str, rows: int, count: int) -> float:
    from bench.procs import memory_mb
    from tickercast.contract import parse_request
    from tickercast.model.engine import ProphetEngine

    series = load_series()
    worker = ProphetEngine()
    worker.warm_up()
    for start in range(count):
        body = json.loads(request_body(series, start, rows, BENCH_KEY, PERIODS))
        worker.run(parse_request(body), engine=engine)
    return memory_mb(os.getpid())["VmHWM"]


# --- agreement: the fast fit against CmdStan, every row, days the history never has included ---

AGREEMENT_SIZES = (250, 1250, 2500)
AGREEMENT_FREQS = ("D", "B", "XNYS")
CALIBRATED_STEPS = 30
MEDIAN_GAP, MAX_GAP = 0.005, 0.05


@dataclass
class Agreement:
    """One window, one freq: |Δyhat| / y_scale over every row (history and 100 future steps),
    how much higher our log posterior is than CmdStan's, and the calibrated forecast's lowest
    and highest of 30 steps over the last price. Where a row is over the target, the largest
    distance from the forecast of CmdStan's other optimizer, Newton: does CmdStan's L-BFGS
    stop short of the optimum there?"""

    ticker: str
    rows: int
    freq: str
    median_gap: float
    max_gap: float
    lp_gain: float
    calibrated_low: float
    calibrated_high: float
    newton_max_gap: float | None = None

    def within(self) -> bool:
        """The target: median ≤ 0.5%, every row ≤ 5%, or beyond that CmdStan's shortfall (our
        optimum scores higher, and Newton's answer is within 5% of ours)."""
        shortfall = self.lp_gain > 0 and (self.newton_max_gap or 1.0) <= MAX_GAP
        return self.median_gap <= MEDIAN_GAP and (self.max_gap <= MAX_GAP or shortfall)


def agreement_windows(series: list[Prices]) -> list[tuple[Prices, int]]:
    """Every series at every size it has; one with fewer sessions at its full length."""
    out = []
    for prices in series:
        have = len(prices.y)
        out += [(prices, n) for n in AGREEMENT_SIZES if n <= have] or [(prices, have)]
    return out


def measure_agreement(prices: Prices, rows: int) -> list[Agreement]:
    """The last `rows` sessions of `prices`, fitted once by each engine, predicted per freq."""
    import dataclasses

    import numpy as np
    from prophet import Prophet

    from tickercast.contract import ForecastRequest, parse_request
    from tickercast.model import calibrated
    from tickercast.model.prophet_seam import fastfit, forecasting

    ds = [str(d.date()) for d in prices.ds[-rows:]]
    y = [float(v) for v in prices.y[-rows:]]

    def request(freq: str, periods: int, method: str = "prophet") -> ForecastRequest:
        body = {"ds": ds, "y": y, "periods": periods, "freq": freq, "method": method}
        return parse_request(body | {"include_history": method == "prophet"})

    def yhat(model: Prophet, req: ForecastRequest) -> np.ndarray:
        return forecasting.forecast_columns(model, req.dates, req.interval_width, req.seed())[
            "yhat"
        ]

    fitted = request("D", PERIODS)
    cmdstan = forecasting.fit(fitted.ds, fitted.y)
    fast = forecasting.fit_fast(fitted.ds, fitted.y)
    history = forecasting.history_frame(fitted.ds, fitted.y)
    stan_data = dataclasses.asdict(Prophet().preprocess(history))
    lp_gain = fastfit.log_posterior(fast.params, stan_data)
    lp_gain -= fastfit.log_posterior(cmdstan.params, stan_data)
    newton = None
    out = []
    for freq in AGREEMENT_FREQS:
        req = request(freq, PERIODS)
        by_cmdstan, by_fast = yhat(cmdstan, req), yhat(fast, req)
        gap = np.abs(by_cmdstan - by_fast) / cmdstan.y_scale
        newton_gap = None
        if gap.max() > MAX_GAP:
            if newton is None:
                newton = Prophet()
                newton.fit(history, algorithm="Newton", iter=10_000)
            newton_gap = float(np.max(np.abs(yhat(newton, req) - by_fast) / cmdstan.y_scale))
        calibrated_req = request(freq, CALIBRATED_STEPS, "calibrated")
        answer = calibrated.forecast(
            calibrated_req, lambda ds, z: forecasting.point_fit(ds, z, "fast")
        )
        out.append(
            Agreement(
                prices.name,
                rows,
                freq,
                float(np.median(gap)),
                float(gap.max()),
                lp_gain,
                float(answer["yhat"].min() / y[-1]),
                float(answer["yhat"].max() / y[-1]),
                newton_gap,
            )
        )
    return out


def agreement_table(results: list[Agreement]) -> str:
    lines = [
        "| ticker | N | freq | median \\|Δyhat\\|/y_scale | max | log posterior, ours − CmdStan's "
        "| max from CmdStan's Newton | calibrated lowest / last | highest / last |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for a in results:
        newton = "" if a.newton_max_gap is None else f"{a.newton_max_gap:.2%}"
        lines.append(
            f"| {a.ticker} | {a.rows:,} | {a.freq} | {a.median_gap:.3%} | {a.max_gap:.2%} "
            f"| {a.lp_gain:+.3f} | {newton} | {a.calibrated_low:.3f} | {a.calibrated_high:.3f} |"
        )
    worst_median = max(a.median_gap for a in results)
    worst_max = max(a.max_gap for a in results)
    low = min(a.calibrated_low for a in results)
    high = max(a.calibrated_high for a in results)
    held = all(a.within() for a in results) and low >= 1 / 3 and high <= 3
    over = [f"{a.ticker} {a.rows:,} {a.freq}" for a in results if a.max_gap > MAX_GAP]
    lines.append("")
    lines.append(
        f"Worst median {worst_median:.3%} (target ≤ 0.5%), worst row {worst_max:.2%} (≤ 5%"
        + (f"; over it: {', '.join(over)}, see Newton's column" if over else "")
        + f"); calibrated between {low:.3f} and {high:.3f} of the last price (1/3 to 3): "
        f"targets {'hold' if held else 'MISSED'}."
    )
    return "\n".join(lines)


def _agreement_main() -> None:
    """The table for the embedded prices, then for those outside the repository (when the
    package that ships them is installed: `bench/honesty.py`)."""
    from tickercast.model.prophet_seam import forecasting

    forecasting.load_prophet()
    for label, series in (("embedded", embedded()), ("outside the repository", external())):
        results = []
        for prices, rows in agreement_windows(series):
            print(f"agreement: {prices.name} N={rows}", file=sys.stderr, flush=True)
            results += measure_agreement(prices, rows)
        if results:
            print(f"\n**{label}**\n\n{agreement_table(results)}", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "memory":
        print(_memory_child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
    elif sys.argv[1] == "agreement":
        _agreement_main()
