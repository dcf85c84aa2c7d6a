"""`tickercast refresh --universe FILE --shard I/N`: every ticker of a universe, every night.

For its shard of the universe (`tickercast.data.universe`), a group of tickers at a time:

1. the day's prices of each, through the web app's own `PriceBook` (so they are cached for the
   pages too), a few at a time. A provider that limits our requests (its 429, or any failure
   it asks us to wait after) pauses every fetch for the wait it asks (the price book's own
   when it names none) and a second more, then the ticker is asked again, up to
   `price_attempts` times: never skipped in silence. An answer that is only a kept copy of an
   earlier day counts as a failure to answer too. A symbol no source has is *unknown*:
   reported, not a failure.
2. the forecast of each, the very request the ticker page makes (`_ticker_prepared`, the
   page's default window, horizon and method), through `Forecaster.model_answers`: the answer
   cache first, then POST /batch for the misses, each answer cached under the page's own key,
   so a morning view of any ticker of the universe is a cache hit. The model's 429 or 503 for a
   series (`ServiceBusy`, with its wait) is asked again after that wait.
3. each forecast into the track record as kind `nightly` (no views: nobody chose to look at
   it; the pages keep recording what they show as `live`), a group in one transaction
   (`writes.store`, straight: the `Recorder`'s buffer is there to keep a page from waiting
   on the database, and this job can wait; a database that fails fails the group's tickers).
4. with `backtests`, the backtest each ticker page asks first (`page_backtest_request`: 50
   origins at every level), through `POST /backtest` with `series`, into the same cache, so
   a morning view's backtest panel is a cache hit too; a backtest the model refused or could
   not give is reported with its reason (the page asks it again when shown), not a failure;
5. the scoring of what the new prices settle, for this shard's tickers only (their groups, of
   every kind), with the prices just fetched: shards never score the same group.

Sleeping and the clock are injected, so tests pause without waiting.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from tickercast.data.base import PriceHistory
from tickercast.data.universe import Member
from tickercast.errors import (
    NotFound,
    ProviderError,
    RateLimited,
    ServiceBusy,
    TickercastError,
    UnknownTicker,
)
from tickercast.record import scorer, writes
from tickercast.record.writes import ShownForecast
from tickercast.web import batched
from tickercast.web.forecasts import (
    Forecaster,
    PreparedForecast,
    _ticker_prepared,
    page_backtest_request,
)
from tickercast.web.recording import shown_forecast
from tickercast.web.replay import price_reader
from tickercast.web.series import DEFAULT_WINDOW, PAGE_HORIZON, PAGE_METHOD, Choices, adjusted
from tickercast.web.series import usable as usable_rows

PAUSE = 60.0  # seconds to pause when only a kept copy of an earlier day answered
MARGIN = 1.0  # seconds past a provider's wait, so its failure kept that long has expired
GROUP = 200  # tickers fetched, forecast and recorded together
Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]


@dataclass(frozen=True)
class Options:
    choices: Choices = field(
        default_factory=lambda: Choices.parse(DEFAULT_WINDOW, PAGE_HORIZON, None, PAGE_METHOD)
    )
    concurrency: int = 4  # price fetches at a time
    price_attempts: int = 5  # tries of a ticker's prices before it is a failure
    model_attempts: int = 5  # tries of a series the model was too busy for
    group: int = GROUP
    chunk: int = batched.CHUNK  # series per batch request
    # Seconds for one batch request, all tries included: a batch of 100 may take longer than
    # a page's one forecast (MODEL_API_TIMEOUT); the model's Ingress waits 300 s.
    model_timeout: float = 120.0
    backtests: bool = False  # warm each ticker page's backtest too (about 0.3 s of CPU each)
    backtest_chunk: int = 20  # backtests per request: each runs its folds on every fit slot


@dataclass(frozen=True)
class Result:
    """A ticker's night: `ok`, `unknown` (no source has it) or `failed`, with the reason."""

    symbol: str
    status: str
    reason: str | None = None


@dataclass
class Pause:
    """Every price fetch waits while a provider asked us to: one pause for all of them."""

    sleep: Sleep
    clock: Clock
    tell: Callable[[str], None] = lambda text: None
    until: float = 0.0
    paused: list[tuple[float, str]] = field(default_factory=list)  # (seconds added, why)

    def pause_for(self, seconds: float, why: str) -> None:
        now = self.clock()
        if now + seconds > self.until:
            added = now + seconds - max(self.until, now)  # overlapping pauses count once
            self.until = now + seconds
            self.paused.append((added, why))
            self.tell(f"pausing the price fetches for {seconds:g} s ({why})")

    async def wait(self) -> None:
        while (left := self.until - self.clock()) > 0:
            await self.sleep(left)


class Progress:
    """One line on stderr per group and per pause: tickers done, per second, failures."""

    def __init__(self, total: int, out: Any, clock: Clock = time.monotonic) -> None:
        self.total, self.out, self.clock = total, out, clock
        self.started = clock()
        self.results: list[Result] = []

    def note(self, text: str) -> None:
        self.out.write(f"nightly: {text}\n")
        self.out.flush()

    def done(self, results: Sequence[Result]) -> None:
        self.results.extend(results)
        seconds = max(self.clock() - self.started, 1e-9)
        failed = [r for r in results if r.status == "failed"]
        unknown = [r.symbol for r in results if r.status == "unknown"]
        line = (
            f"{len(self.results)}/{self.total} tickers, {len(self.results) / seconds:.1f}/s, "
            f"{sum(r.status == 'failed' for r in self.results)} failed"
        )
        line += "".join(f"; {r.symbol} failed: {r.reason}" for r in failed)
        line += f"; unknown: {', '.join(unknown)}" if unknown else ""
        self.note(line)


async def fetch(forecaster: Forecaster, symbol: str, pause: Pause, options: Options) -> Any:
    """The ticker's fresh prices (a `PriceHistory`), or its `Result` when there are none."""
    reason = "no attempt"
    for _ in range(max(1, options.price_attempts)):
        await pause.wait()
        try:
            found = await forecaster.lookup(symbol)
        except UnknownTicker as exc:
            if exc.unreachable:  # not unknown: a source that may have it cannot be reached
                return Result(symbol, "failed", exc.client_message)
            return Result(symbol, "unknown", exc.client_message)
        except NotFound as exc:
            return Result(symbol, "unknown", exc.client_message)
        except ProviderError as exc:  # a 429, or any failure the provider asks us to wait on
            reason = exc.client_message
            pause.pause_for(float(exc.retry_after or PAUSE) + MARGIN, f"{symbol}: {reason}")
            continue
        except TickercastError as exc:
            return Result(symbol, "failed", exc.client_message)
        if found.last_copy:  # the source failed; only its answer of an earlier day is kept
            reason = f"{', '.join(found.unanswered) or found.label} did not answer"
            pause.pause_for(PAUSE, f"{symbol}: {reason}")
            continue
        return found.history
    return Result(symbol, "failed", f"{reason} ({options.price_attempts} attempts)")


async def forecast_all(
    forecaster: Forecaster,
    prepared: Mapping[str, PreparedForecast],
    options: Options,
    sleep: Sleep,
    progress: Progress,
) -> dict[str, batched.Outcome]:
    """The model's answer (or error) for each prepared forecast, asking again after their wait
    the series the model was too busy for."""
    outcomes: dict[str, batched.Outcome] = {}
    asking = {name: p.request for name, p in prepared.items()}
    for attempt in range(1, max(1, options.model_attempts) + 1):
        answers = await forecaster.model_answers(
            "forecast", asking, options.model_timeout, options.chunk
        )
        outcomes.update(answers)
        busy = [n for n, o in answers.items() if isinstance(o, ServiceBusy | RateLimited)]
        if not busy or attempt == options.model_attempts:
            break
        wait = max(float(answers[n].retry_after or 1) for n in busy)  # type: ignore[union-attr]
        progress.note(f"the model is busy for {len(busy)} series; asking again in {wait:g} s")
        await sleep(wait)
        asking = {name: asking[name] for name in busy}
    return outcomes


async def warm_backtests(
    forecaster: Forecaster, histories: Mapping[str, PriceHistory], options: Options
) -> list[Result]:
    """Each ticker page's first backtest into the answer cache; the tickers whose backtest
    the model did not give, with its reason."""

    def requests() -> dict[str, dict[str, Any]]:
        return {s: page_backtest_request(h, options.choices) for s, h in histories.items()}

    asking = await anyio.to_thread.run_sync(requests)
    answers = await forecaster.model_answers(
        "backtest", asking, options.model_timeout, options.backtest_chunk
    )
    return [
        Result(symbol, "failed", f"its backtest: {outcome.client_message}")
        for symbol, outcome in answers.items()
        if isinstance(outcome, TickercastError)
    ]


def _prepare(histories: Mapping[str, PriceHistory], choices: Choices) -> dict[str, Any]:
    """Each ticker's page answer head and forecast makings, or why its prices cannot make one."""
    made: dict[str, Any] = {}
    for symbol, history in histories.items():
        try:
            made[symbol] = _ticker_prepared(history, choices)
        except TickercastError as exc:
            made[symbol] = Result(symbol, "failed", exc.client_message)
    return made


def recorded(
    head: Mapping[str, Any], prepared: PreparedForecast, answer: batched.ModelAnswer
) -> ShownForecast:
    """The forecast as the record keeps it: as the page would show it, kind nightly, no views."""
    data = {**head, **prepared.answer(answer.content)}
    shown = shown_forecast(data, prepared.dates[-1], prepared.last, answer, "nightly")
    return dataclasses.replace(shown, views=0)


async def run_group(
    forecaster: Forecaster,
    engine: Engine,
    symbols: Sequence[str],
    pause: Pause,
    options: Options,
    sleep: Sleep,
    progress: Progress,
) -> tuple[list[Result], dict[str, PriceHistory]]:
    """One group's prices, forecasts and records; each ticker's result, and the prices found."""
    results: dict[str, Result] = {}
    histories: dict[str, PriceHistory] = {}
    limiter = anyio.CapacityLimiter(max(1, options.concurrency))

    async def one(symbol: str) -> None:
        async with limiter:
            got = await fetch(forecaster, symbol, pause, options)
        if isinstance(got, Result):
            results[symbol] = got
        else:
            histories[symbol] = got

    async with anyio.create_task_group() as tasks:
        for symbol in symbols:
            tasks.start_soon(one, symbol)
    made = await anyio.to_thread.run_sync(_prepare, histories, options.choices)
    results.update({s: r for s, r in made.items() if isinstance(r, Result)})
    made = {s: m for s, m in made.items() if not isinstance(m, Result)}
    answers = await forecast_all(
        forecaster, {s: p for s, (_, p) in made.items()}, options, sleep, progress
    )
    shown: dict[str, ShownForecast] = {}
    for symbol, outcome in answers.items():
        if isinstance(outcome, TickercastError):
            results[symbol] = Result(symbol, "failed", f"the model: {outcome.client_message}")
            continue
        head, prepared = made[symbol]
        shown[symbol] = recorded(head, prepared, outcome)
    try:
        await anyio.to_thread.run_sync(writes.store, engine, list(shown.values()))
    except (SQLAlchemyError, OSError) as exc:
        why = f"the record's database: {type(exc).__name__}"
        results.update({symbol: Result(symbol, "failed", why) for symbol in shown})
    else:
        results.update({symbol: Result(symbol, "ok") for symbol in shown})
    return [results[s] for s in symbols], histories


def score_reader(forecaster: Forecaster, fetched: Mapping[str, PriceHistory]) -> scorer.PriceReader:
    """The scorer's prices: those just fetched (no second request), else the source's."""
    fallback = price_reader(forecaster.prices.providers)

    def read(ticker: str, source: str) -> pd.Series | None:
        history = fetched.get(ticker)
        if history is not None and history.provider == source:
            return usable_rows(adjusted(history.frame))
        result: pd.Series | None = fallback(ticker, source)
        return result

    return read


@dataclass(frozen=True)
class Night:
    results: list[Result]
    scored: scorer.ScoreRun
    paused: list[tuple[float, str]]
    seconds: float
    unwarmed: list[Result] = field(default_factory=list)  # backtests not warmed, and why

    @property
    def failed(self) -> list[Result]:
        return [r for r in self.results if r.status == "failed"]

    def summary(self) -> str:
        """What the night did, for stdout: counts, then each failure and unknown symbol."""
        ok = sum(r.status == "ok" for r in self.results)
        paused = sum(seconds for seconds, _ in self.paused)
        unknown = [r for r in self.results if r.status == "unknown"]
        lines = [
            f"nightly: {ok} of {len(self.results)} tickers forecast and recorded in "
            f"{self.seconds:.1f} s ({len(self.results) / max(self.seconds, 1e-9):.1f}/s); "
            f"{len(self.failed)} failed, {len(unknown)} unknown; "
            f"{len(self.paused)} pauses for the price providers ({paused:g} s); "
            f"{self.scored.steps_scored} prices scored"
        ]
        lines += [f"  failed {r.symbol}: {r.reason}" for r in self.failed]
        lines += [f"  unknown {r.symbol}: {r.reason}" for r in unknown]
        if self.unwarmed:
            lines.append(f"  {len(self.unwarmed)} backtests not warmed (pages will ask them):")
            lines += [f"  no backtest {r.symbol}: {r.reason}" for r in self.unwarmed]
        return "\n".join(lines)


async def nightly(
    forecaster: Forecaster,
    engine: Engine,
    members: Sequence[Member],
    out: Any,
    options: Options | None = None,
    sleep: Sleep = anyio.sleep,
    clock: Clock = time.monotonic,
    today: dt.date | None = None,
) -> Night:
    """The night of `members` (a shard of a universe); the forecaster is closed after it (its
    connections belong to this event loop), then this shard's tickers are scored."""
    options = options or Options()
    started = time.monotonic()
    symbols = list(dict.fromkeys(m.symbol for m in members))
    progress = Progress(len(symbols), out)
    pause = Pause(sleep, clock, progress.note)
    fetched: dict[str, PriceHistory] = {}
    unwarmed: list[Result] = []
    try:
        for start in range(0, len(symbols), max(1, options.group)):
            group = symbols[start : start + max(1, options.group)]
            results, histories = await run_group(
                forecaster, engine, group, pause, options, sleep, progress
            )
            if options.backtests:
                ok = {r.symbol for r in results if r.status == "ok"}
                shown = {s: h for s, h in histories.items() if s in ok}
                unwarmed += await warm_backtests(forecaster, shown, options)
            progress.done(results)
            fetched.update(histories)
    finally:
        await forecaster.close()
    reader = score_reader(forecaster, fetched)
    run = await anyio.to_thread.run_sync(
        lambda: scorer.score(engine, reader, today, tickers=set(symbols))
    )
    return Night(progress.results, run, pause.paused, time.monotonic() - started, unwarmed)
