"""A ticker's prices for a page: every source asked at once, within one time budget.

    book = PriceBook(providers, store, budget=4.0)
    lookup = await book.lookup("sap.de")     # PriceLookup: the history, what a page must say
    history = await book.history("sap.de")   # the PriceHistory alone
    matches = await book.search("apple")     # [Match]: Yahoo's search, else the embedded names

Where several sources have a ticker, the one with the most recent prices answers (ties go to
`PRIORITY`: Yahoo, the keyed providers, the embedded sample). Each online source's answer is
kept in the store (Redis when configured, shared by every worker and replica; else this
process) until that exchange's next close has been published, so a ticker costs a source one
request a trading day whatever the traffic: identical requests in a process wait on one fetch,
and across processes the first takes a short lock while the others wait for its answer.

A source that fails or limits us is not asked again for a short while (`ERROR_BACKOFF`, or the
wait it asked for); meanwhile its last prices (kept `LAST_COPY_TTL`) still answer, marked as
such. A source that cannot be reached at all (`SourceUnreachable`: no name resolution, a
refused connection or tunnel) is not asked for any symbol for `REACH_RECHECK` seconds, in this
process: its symbols are not remembered as unknown, and pages say it once (`unreachable`), not
per ticker. With no prices at all from anyone: `PricesUnavailable` (503, Retry-After) when a
source failed, else `UnknownTicker` (404), which names the unreachable sources that might have
known the symbol and the tickers this site has.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.to_thread
import orjson

from tickercast.data import exchanges
from tickercast.data.base import Match, PriceHistory, PriceProvider
from tickercast.data.exchanges import last_closed_session, seconds_until_stale
from tickercast.data.frames import frame_from_payload, frame_payload, normalize_ticker
from tickercast.errors import (
    NotFound,
    PricesUnavailable,
    ProviderError,
    SourceUnreachable,
    UnknownTicker,
)
from tickercast.runtime.cache import SharedCache, bytes_lru
from tickercast.runtime.lru import LRU
from tickercast.runtime.redis_store import Store

log = logging.getLogger(__name__)

NAMESPACE = "tickercast:prices"
VERSION = "1"  # part of every key: change it when the stored bytes' meaning changes
MAX_ITEMS = 5_000
MEMORY_MAX_BYTES = 128 * 2**20
LOCAL_MAX_ITEMS, LOCAL_MAX_BYTES = 500, 32 * 2**20  # ten years of a ticker: about 100 KB
PRIORITY = ("yahoo", "tiingo", "nasdaq", "embedded")  # who answers when dates tie
SOURCE_WORDS = {"embedded": "sample data"}  # what a note calls a source, when not its label
LAST_COPY_TTL = 30 * 86400.0  # the prices served when a source stops answering
NOT_FOUND_TTL = 6 * 3600.0  # an unknown symbol is not asked again for this long
ERROR_BACKOFF = 30.0  # a failing source is not asked again for this long (unless it says)
REACH_RECHECK = 180.0  # a source that cannot be reached is asked again after this long
SEARCH_TTL = 86400.0
LOCK_SECONDS = 30.0  # another process's fetch is waited for at most this long
POLL_SECONDS = 0.1
PROVIDER_THREADS = 16  # price fetches running at once in a process (each a blocking call)

_FOUND, _MISSING, _FAILED = b"P", b"N", b"E"  # the first byte of a stored answer
_UNREACHABLE = b"U"  # an answer shared by the requests waiting on one fetch, never stored

# Told of every online lookup: (source name, "cached" | "ok" | "not_found" | "error").
PriceObserver = Callable[[str, str], None]


@dataclass(frozen=True)
class PriceLookup:
    """A ticker's prices and what a page must say about them: `unanswered` are the labels of
    sources that failed or ran out of time; `last_copy` is True when the history is a source's
    earlier answer, kept for when it fails; `unreachable` are the labels of sources that cannot
    be reached from this server (said once on the home page, not on every ticker's)."""

    history: PriceHistory
    label: str
    unanswered: tuple[str, ...] = ()
    last_copy: bool = False
    unreachable: tuple[str, ...] = ()

    def notes(self, now: dt.datetime | None = None) -> list[str]:
        """What a page says about these prices: how old they are when they are not the latest
        session's, and which sources did not answer."""
        last = self.history.last_date
        if last is None:
            return []
        silent = ", ".join(self.unanswered)
        if self.last_copy:
            why = [f"{silent} did not answer"] if silent else []
            if self.unreachable:
                why.append(f"{', '.join(self.unreachable)} cannot be reached from this server")
            return [f"prices as of {last} ({'; '.join(why)})"]
        notes = []
        closed = last_closed_session(self.history.calendar, now)
        if closed is not None and last < closed.date():
            today = exchanges.utc(now).date()
            source = SOURCE_WORDS.get(self.history.provider, self.label)
            notes.append(f"prices to {last}, {age(last, today)}: {source}")
        if silent:
            notes.append(f"{silent} did not answer; these prices are from {self.label}")
        return notes


def age(day: dt.date, today: dt.date) -> str:
    """`"3 days ago"`, `"5 weeks ago"`, `"13 years ago"`."""
    days = (today - day).days
    for unit, size in (("year", 365.25), ("month", 30.44), ("week", 7)):
        if days >= 2 * size or (unit == "year" and days >= size):
            count = int(days // size)
            return f"{count} {unit}{'s' if count > 1 else ''} ago"
    return "yesterday" if days == 1 else f"{days} days ago"


class PriceBook:
    def __init__(
        self,
        providers: Mapping[str, PriceProvider],
        store: Store,
        *,
        budget: float = 4.0,
        memory: LRU[str, bytes] | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        observe: PriceObserver | None = None,
    ) -> None:
        order = {name: i for i, name in enumerate(PRIORITY)}
        self.providers = dict(sorted(providers.items(), key=lambda kv: order.get(kv[0], 2)))
        self.store = store
        self.budget = budget
        self._clock = clock
        # The kept answers expire by the same clock that works out their time to live.
        seconds = self._seconds
        if memory is None:
            memory = bytes_lru(MAX_ITEMS, MEMORY_MAX_BYTES, seconds)
        self.cache = SharedCache(store, NAMESPACE, MAX_ITEMS, memory)
        # With Redis, the day's answers this process fetched or read are kept here too (see
        # `_keep`); without, the store's memory is this process's already.
        self._local = (
            bytes_lru(LOCAL_MAX_ITEMS, LOCAL_MAX_BYTES, seconds) if store.shared else memory
        )
        self._observe = observe or (lambda name, outcome: None)
        self.last_outcome: dict[str, str] = {}  # source -> its last fetch's outcome, here
        self._unreachable_until: dict[str, float] = {}  # source -> when to ask it again
        self._reach_checked: dict[str, float] = {}  # source -> when its reach was last learnt
        self._probe: asyncio.Future[None] | None = None
        self._flights: dict[str, asyncio.Future[bytes]] = {}
        self._flight_started: dict[str, float] = {}  # when each fetch in flight began
        self._threads = anyio.CapacityLimiter(PROVIDER_THREADS)

    def _seconds(self) -> float:
        """The book's clock in seconds, for the expiry of what it keeps in this process."""
        return self._clock().timestamp()

    def label(self, name: str) -> str:
        return str(getattr(self.providers[name], "label", name))

    def tickers(self) -> list[dict[str, str]]:
        """Every ticker a source lists (online ones list none), for the picker."""
        return [
            {"ticker": ticker, "source": name, "label": self.label(name)}
            for name, provider in self.providers.items()
            for ticker in provider.tickers()
        ]

    # Prices ------------------------------------------------------------------------------
    async def history(self, ticker: str, source: str | None = None) -> PriceHistory:
        return (await self.lookup(ticker, source)).history

    async def lookup(self, ticker: str, source: str | None = None) -> PriceLookup:
        """The most recent prices any source (or `source`) has for `ticker`, with what a page
        must say about them."""
        symbol = normalize_ticker(ticker)
        if source is not None and source not in self.providers:
            raise NotFound(
                f"There is no price source {source[:20]!r}; "
                f"choose one of {', '.join(self.providers)}."
            )
        names = [source] if source else list(self.providers)
        tasks = {name: asyncio.ensure_future(self._from_source(name, symbol)) for name in names}
        await asyncio.wait(tasks.values(), timeout=self.budget)
        found: list[tuple[PriceHistory, str, bool]] = []
        unanswered: list[str] = []
        unreachable: list[str] = []
        failure: ProviderError | None = None
        for name, task in tasks.items():
            if not task.done():
                task.cancel()  # the fetch itself goes on (shielded) and is kept for later
                log.warning("%s did not answer for %s within %.1f s", name, symbol, self.budget)
                unanswered.append(name)
                failure = failure or PricesUnavailable(
                    f"{self.label(name)} did not answer in time", retry_after=int(ERROR_BACKOFF)
                )
            elif isinstance(task.exception(), SourceUnreachable):
                unreachable.append(name)
            elif isinstance(task.exception(), ProviderError):
                unanswered.append(name)
                failure = failure or _unavailable(task.exception())
            elif task.exception() is None:
                found.append((task.result(), name, False))
            elif not isinstance(task.exception(), NotFound):
                raise task.exception()  # type: ignore[misc]
        for name in unanswered + unreachable:
            kept = await self.cache.get(_key("last", name, symbol))
            if kept is not None:
                found.append((_history(kept[1:]), name, True))
        labels = tuple(self.label(n) for n in unanswered)
        away = tuple(self.label(n) for n in unreachable)
        if found:
            # The most recent prices; among equals, the first source in priority order.
            rank = {name: i for i, name in enumerate(self.providers)}
            history, name, last_copy = max(
                found, key=lambda f: (f[0].last_date or dt.date.min, f[2] is False, -rank[f[1]])
            )
            return PriceLookup(history, self.label(name), labels, last_copy, away)
        if failure is not None:
            raise PricesUnavailable(
                f"No prices for {symbol} right now: {', '.join(labels)} did not answer; "
                "try again in a minute",
                retry_after=failure.retry_after or int(ERROR_BACKOFF),
            )
        raise self._unknown(symbol, away)

    def _unknown(self, symbol: str, unreachable: tuple[str, ...]) -> UnknownTicker:
        """No source has `symbol`; when some could not be asked, it may exist: say why, and
        what this site has."""
        if not unreachable:
            return UnknownTicker(symbol, f"no prices for {symbol}")
        away = ", ".join(unreachable)
        message = f"no prices for {symbol}: {away} cannot be reached from this server"
        listed = list(dict.fromkeys(t["ticker"] for t in self.tickers()))
        if listed:
            message += f"; the tickers available here are {', '.join(listed)}"
        return UnknownTicker(symbol, message, unreachable)

    async def _from_source(self, name: str, symbol: str) -> PriceHistory:
        """Source `name`'s prices for `symbol`: from the store, else fetched (once)."""
        provider = self.providers[name]
        if provider.tickers():  # a source that lists its tickers holds them in memory
            return provider.history(symbol)
        key = _key("fresh", name, symbol)
        raw = self._local.get(key)
        if raw is not None:
            self._observe(name, "cached")
            return _decoded(raw)
        raw = await self.cache.get(key)
        if raw is not None:
            self._observe(name, "cached")
            history = _decoded(raw)
            self._local.put(key, raw, seconds_until_stale(history.calendar, self._clock()))
            return history
        if self.unreachable(name):
            raise self._unreachable_error(name)
        flight = self._flights.get(key)
        if flight is None:
            flight = asyncio.ensure_future(self._fetch(name, symbol, key))
            self._flights[key] = flight
            self._flight_started[key] = self._seconds()
            flight.add_done_callback(lambda _: self._flights.pop(key, None))
        elif self._seconds() - self._flight_started[key] > self.budget:
            # Already late for another page: no page waits for it again (it is kept once in).
            raise ProviderError(f"{self.label(name)} did not answer in time")
        raw = await asyncio.shield(flight)
        return _decoded(raw)

    async def _fetch(self, name: str, symbol: str, key: str) -> bytes:
        """Fetch and store, unless another process is already at it: then its answer."""
        lock = f"{NAMESPACE}:lock:{key}"
        token = secrets.token_hex(8)
        mine = await self.store.call(
            lambda r: r.set(lock, token, nx=True, px=int(LOCK_SECONDS * 1000))
        )
        if self.store.shared and mine is None and self.store.up:
            raw = await self._wait_for_other(key, lock)
            if raw is not None:
                return raw
        try:
            return await self._fetch_now(name, symbol, key)
        finally:
            await self.store.call(lambda r: _release(r, lock, token))

    async def _wait_for_other(self, key: str, lock: str) -> bytes | None:
        deadline = time.monotonic() + LOCK_SECONDS
        while time.monotonic() < deadline:
            await asyncio.sleep(POLL_SECONDS)
            raw = await self.cache.get(key)
            if raw is not None:
                return raw
            held = await self.store.call(lambda r: r.exists(lock))
            if not held:
                return await self.cache.get(key)
        return None

    async def _keep(self, key: str, raw: bytes, ttl: float) -> None:
        """In the shared store and in this process (which still has it while Redis does not
        answer: a Redis outage costs a fetch per worker, not one per request)."""
        self._local.put(key, raw, ttl)
        await self.cache.set(key, raw, ttl)

    async def _fetch_now(self, name: str, symbol: str, key: str) -> bytes:
        provider = self.providers[name]
        try:
            history = await anyio.to_thread.run_sync(
                provider.history, symbol, limiter=self._threads
            )
        except SourceUnreachable as exc:
            self._told(name, "unreachable")
            return _UNREACHABLE + exc.message.encode()  # for the requests waiting, not kept
        except NotFound as exc:
            self._told(name, "not_found")
            raw = _MISSING + exc.message.encode()
            await self._keep(key, raw, NOT_FOUND_TTL)
            return raw
        except ProviderError as exc:
            self._told(name, "error")
            raw = _FAILED + orjson.dumps([exc.message, exc.retry_after])
            await self._keep(key, raw, float(exc.retry_after or ERROR_BACKOFF))
            return raw
        self._told(name, "ok")
        body = _encoded(history)
        ttl = seconds_until_stale(history.calendar, self._clock())
        await self._keep(key, _FOUND + body, ttl)
        await self.cache.set(_key("last", name, symbol), _FOUND + body, LAST_COPY_TTL)
        return _FOUND + body

    def _told(self, name: str, outcome: str) -> None:
        self.last_outcome[name] = outcome
        self._learnt_reach(name, outcome != "unreachable")
        self._observe(name, outcome)

    # Reach -------------------------------------------------------------------------------
    def _now(self) -> float:
        return self._clock().timestamp()

    def _learnt_reach(self, name: str, reached: bool) -> None:
        now = self._now()
        self._reach_checked[name] = now
        if reached:
            self._unreachable_until.pop(name, None)
        else:
            self._unreachable_until[name] = now + REACH_RECHECK

    def unreachable(self, name: str) -> bool:
        """Whether source `name` could not be reached when last asked, less than
        `REACH_RECHECK` seconds ago (it is then not asked for any symbol)."""
        return self._unreachable_until.get(name, 0.0) > self._now()

    def unreachable_labels(self) -> list[str]:
        return [self.label(name) for name in self.providers if self.unreachable(name)]

    def _unreachable_error(self, name: str) -> SourceUnreachable:
        return SourceUnreachable(f"{self.label(name)} cannot be reached from this server")

    async def check_reach(self, wait: float) -> None:
        """Probe each source that can be probed whose reach was last learnt more than
        `REACH_RECHECK` seconds ago (one probe at a time, in a worker thread); wait for the
        answers at most `wait` seconds. Costs nothing between probes."""
        now = self._now()
        due = [
            name
            for name, provider in self.providers.items()
            if hasattr(provider, "reachable")
            and now - self._reach_checked.get(name, now - REACH_RECHECK) >= REACH_RECHECK
        ]
        if due and (self._probe is None or self._probe.done()):
            for name in due:  # not due again while this probe runs or after it
                self._reach_checked[name] = now
            self._probe = asyncio.ensure_future(self._probe_all(due))
        if self._probe is not None and not self._probe.done():
            await asyncio.wait([self._probe], timeout=wait)

    async def _probe_all(self, names: list[str]) -> None:
        for name in names:
            provider: Any = self.providers[name]
            probe = provider.reachable
            try:
                reached = await anyio.to_thread.run_sync(probe, limiter=self._threads)
            except Exception:  # a probe that breaks tells nothing
                log.warning("the probe of %s failed", name, exc_info=True)
                continue
            if reached is not None:
                self._learnt_reach(name, reached)

    def answering(self, name: str) -> bool | None:
        """Whether source `name` answered its last fetch in this process (None: not asked
        yet, or it lists its tickers and is never fetched)."""
        outcome = self.last_outcome.get(name)
        return None if outcome is None else outcome not in ("error", "unreachable")

    # Search ------------------------------------------------------------------------------
    async def search(self, text: str) -> list[Match]:
        """Tickers for a company name or symbol: each searchable source's matches, in priority
        order, without repeats; a source that fails or runs out of time adds none."""
        query = " ".join(text.split())[:60]
        if not query:
            return []
        names = [
            n for n, p in self.providers.items() if hasattr(p, "search") and not self.unreachable(n)
        ]
        tasks = [asyncio.ensure_future(self._search(n, query)) for n in names]
        if tasks:
            await asyncio.wait(tasks, timeout=self.budget)
        matches: dict[str, Match] = {}
        for task in tasks:
            if not task.done():
                task.cancel()
            elif task.exception() is None:
                for match in task.result():
                    matches.setdefault(match.ticker, match)
        return list(matches.values())

    async def _search(self, name: str, query: str) -> list[Match]:
        provider: Any = self.providers[name]
        if provider.tickers():
            return list(provider.search(query))
        key = _key("search", name, query.lower())
        raw = await self.cache.get(key)
        if raw is None:
            try:
                found = await anyio.to_thread.run_sync(
                    provider.search, query, limiter=self._threads
                )
            except SourceUnreachable:
                self._learnt_reach(name, False)
                raise
            raw = orjson.dumps([m.__dict__ for m in found])
            await self.cache.set(key, raw, SEARCH_TTL)
        return [Match(**m) for m in orjson.loads(raw)]

    async def find(self, text: str) -> str:
        """The ticker a user means by `text`: a symbol any source matches exactly, else the
        first match of a search, else `text` itself as a symbol (its page then says whether
        anyone has prices for it); `InvalidInput` when it is none of those."""
        matches = await self.search(text)
        wanted = text.strip().upper()
        for match in matches:
            if match.ticker.upper() == wanted:
                return match.ticker
        if matches:
            return matches[0].ticker
        return normalize_ticker(text)  # InvalidInput when it is not even a symbol


def _key(kind: str, name: str, symbol: str) -> str:
    return f"v{VERSION}:{kind}:{name}:{symbol}"


async def _release(r: Any, lock: str, token: str) -> None:
    if (await r.get(lock)) == token.encode():
        await r.delete(lock)


def _unavailable(exc: BaseException | None) -> PricesUnavailable:
    retry = getattr(exc, "retry_after", None)
    return PricesUnavailable(str(getattr(exc, "message", exc)), retry_after=retry)


def _encoded(history: PriceHistory) -> bytes:
    return orjson.dumps(
        {
            "ticker": history.ticker,
            "provider": history.provider,
            "attribution": history.attribution,
            "currency": history.currency,
            "calendar": history.calendar,
            "name": history.name,
            "frame": frame_payload(history.frame),
        },
        option=orjson.OPT_SERIALIZE_NUMPY,
    )


def _history(body: bytes) -> PriceHistory:
    payload = orjson.loads(body)
    frame = frame_from_payload(payload.pop("frame"))
    return PriceHistory(frame=frame, **payload)


def _decoded(raw: bytes) -> PriceHistory:
    """A stored answer: prices, or the NotFound / ProviderError it was."""
    kind, body = raw[:1], raw[1:]
    if kind == _UNREACHABLE:
        raise SourceUnreachable(body.decode())
    if kind == _MISSING:
        raise NotFound(body.decode())
    if kind == _FAILED:
        message, retry_after = orjson.loads(body)
        raise ProviderError(message, retry_after=retry_after)
    return _history(body)
