"""`tickercast refresh`: ask ahead for what the ticker pages will ask, so visitors find it cached.

For every ticker (by default those the pages showed in the last week, then `REFRESH_TICKERS`,
then every one the enabled providers list), each window and each horizon: the day's prices (one
fetch a trading day from an online source), the forecast and the backtest, through the web
app's own `Forecaster`, so every request is exactly the one a page makes (same series, same
cache keys), and its answers go into the web app's own cache of model answers (built by the
same factory: with REDIS_URL, the one the pages read). Runs `concurrency` pages at a time,
shows its progress on stderr, prints a summary on stdout and exits 1 when anything failed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TextIO

import anyio

from tickercast.errors import TickercastError
from tickercast.web.forecasts import Forecaster
from tickercast.web.series import PAGE_METHOD, Choices

log = logging.getLogger("tickercast.refresh")


@dataclass(frozen=True)
class Job:
    ticker: str
    source: str | None
    window: str
    horizon: int
    method: str = PAGE_METHOD

    def __str__(self) -> str:
        return f"{self.ticker} window={self.window} h={self.horizon} method={self.method}"

    def choices(self) -> Choices:
        return Choices.parse(self.window, self.horizon, None, self.method)


@dataclass(frozen=True)
class Outcome:
    job: Job
    error: str | None
    seconds: float


def plan(
    forecaster: Forecaster,
    tickers: Sequence[str],
    windows: Sequence[str],
    horizons: Sequence[int],
    methods: Sequence[str] = (PAGE_METHOD,),
) -> list[Job]:
    """The jobs, checked first: a bad window, horizon or method is refused before any request."""
    for window in windows:
        for horizon in horizons:
            for method in methods:
                Choices.parse(window, horizon, None, method)
    if tickers:
        pairs: list[tuple[str, str | None]] = [(t, None) for t in dict.fromkeys(tickers)]
    else:
        pairs = [(t["ticker"], t["source"]) for t in forecaster.tickers()]
    return [
        Job(t, s, w, h, m) for t, s in pairs for w in windows for h in horizons for m in methods
    ]


async def run_job(forecaster: Forecaster, job: Job) -> Outcome:
    started = time.perf_counter()
    choices = job.choices()
    try:
        await forecaster.ticker_forecast(job.ticker, job.source, choices)
        await forecaster.ticker_backtest(job.ticker, job.source, choices)
    except TickercastError as exc:
        return Outcome(job, exc.client_message, time.perf_counter() - started)
    except Exception as exc:  # one bad ticker must not stop the others
        log.exception("refresh of %s failed", job)
        return Outcome(job, f"unexpected {type(exc).__name__}", time.perf_counter() - started)
    return Outcome(job, None, time.perf_counter() - started)


class Progress:
    """A bar redrawn in place on a terminal; one plain line per finished job otherwise."""

    WIDTH = 30

    def __init__(self, total: int, out: TextIO) -> None:
        self.total = total
        self.done = 0
        self.failed = 0
        self.out = out
        self.tty = out.isatty()

    def update(self, outcome: Outcome) -> None:
        self.done += 1
        self.failed += outcome.error is not None
        status = "ok" if outcome.error is None else f"FAILED: {outcome.error}"
        if self.tty:
            filled = self.WIDTH * self.done // max(self.total, 1)
            bar = "#" * filled + "." * (self.WIDTH - filled)
            line = f"\r[{bar}] {self.done}/{self.total}, {self.failed} failed  {outcome.job}"
            self.out.write(f"{line[:100]:<100}")
            if self.done == self.total:
                self.out.write("\n")
        else:
            self.out.write(
                f"refresh {self.done}/{self.total} {outcome.job}: {status} "
                f"({outcome.seconds:.1f} s)\n"
            )
        self.out.flush()


async def refresh(
    forecaster: Forecaster,
    jobs: Sequence[Job],
    concurrency: int,
    progress: Callable[[Outcome], None],
) -> list[Outcome]:
    """Run every job, `concurrency` at a time; every outcome, failures included. Then the
    forecaster's connections are closed: they belong to this event loop."""
    outcomes: list[Outcome] = []
    pages = anyio.Semaphore(max(1, concurrency))

    async def one(job: Job) -> None:
        async with pages:
            outcome = await run_job(forecaster, job)
        progress(outcome)
        outcomes.append(outcome)

    try:
        async with anyio.create_task_group() as group:
            for job in jobs:
                group.start_soon(one, job)
    finally:
        await forecaster.close()
    return outcomes


def summary(outcomes: Sequence[Outcome], seconds: float) -> str:
    failed = [o for o in outcomes if o.error is not None]
    lines = [
        f"refreshed {len(outcomes) - len(failed)} of {len(outcomes)} "
        f"(forecast and backtest each) in {seconds:.1f} s; {len(failed)} failed"
    ]
    lines += [f"  {o.job}: {o.error}" for o in failed]
    return "\n".join(lines)


async def default_tickers(forecaster: Forecaster, configured: str | None) -> list[str]:
    """The tickers pages showed in the last week, then the configured ones, then the listed
    ones, each once."""
    viewed = await forecaster.recently_viewed()
    extra = [t.strip().upper() for t in (configured or "").split(",") if t.strip()]
    listed = [t["ticker"] for t in forecaster.tickers()]
    return list(dict.fromkeys(viewed + extra + listed))
