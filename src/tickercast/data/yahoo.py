"""Daily prices from Yahoo Finance through `yfinance`, without a key.

`yfinance` calls Yahoo's fixed https hosts (a cookie, a crumb, then the chart or search call)
through its own `curl_cffi` session, which looks like a browser's (plain `requests` sessions are
refused). Its traps, handled here: an unknown symbol is an empty answer or a "possibly
delisted" error, not a clear "not found"; rate limiting comes in waves; it keeps a failed
answer of its time-zone look-up for the rest of the process (cleared after any failure); it
keeps a cache folder (time zones, the cookie) that must be writable, so it goes to a folder of
ours.

Yahoo's data is for personal use (its terms; yfinance's README says so): a public deployment
should turn this provider off (`YAHOO_PRICES=false`) and use a licensed one such as Tiingo.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from tickercast.data.base import Match, PriceHistory
from tickercast.data.exchanges import calendar_of, last_closed_session
from tickercast.data.frames import clip, make_frame, normalize_ticker
from tickercast.data.http import unreachable
from tickercast.errors import NotFound, ProviderError

log = logging.getLogger(__name__)

LABEL = "Yahoo Finance"
ATTRIBUTION = "Prices: Yahoo Finance (for personal use)."
# How far back one request reaches: enough for every chart window and the model's history.
HISTORY_RANGE = "10y"
# Yahoo's columns -> ours (unadjusted `Close` is split-adjusted only; `Adj Close` also for
# dividends: the web app scales the day's other prices by their ratio).
COLUMNS = {
    "Open": "open",
    "High": "high",
    "Low": "low",
    "Close": "close",
    "Volume": "volume",
    "Adj Close": "adj_close",
}
# curl's codes for a host that cannot be reached: a proxy's or the host's name unresolved (5, 6),
# no connection, or a proxy refusing the tunnel (7; 56 and 97 in some curl versions).
UNREACHABLE_CODES = frozenset({5, 6, 7, 97})
PROBE_URL = "https://query1.finance.yahoo.com/"
RATE_LIMIT_RETRY = 60  # seconds a user is asked to wait when Yahoo limits us
SEARCH_RESULTS = 8

_setup_lock = threading.Lock()


def new_session(proxy: str | None = None, ca_bundle: str | None = None) -> Any:
    """The browser-like `curl_cffi` session yfinance needs; `proxy` for Yahoo's hosts,
    `ca_bundle` a file of certificates to trust instead of the usual ones."""
    from curl_cffi import requests as curl_requests

    # `verify` takes a file's path too (curl's CAINFO), though its type says bool.
    verify: Any = ca_bundle or True
    return curl_requests.Session(impersonate="chrome", proxy=proxy or None, verify=verify)


class YahooProvider:
    name = "yahoo"
    label = LABEL
    attribution = ATTRIBUTION

    def __init__(
        self,
        cache_dir: Path,
        *,
        timeout: float = 10.0,
        session: Any | None = None,
        proxy: str | None = None,
        ca_bundle: str | None = None,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        import yfinance

        with _setup_lock:  # yfinance's settings are its process's
            cache_dir.mkdir(parents=True, exist_ok=True)
            yfinance.set_tz_cache_location(str(cache_dir))
            yfinance.config.debug.hide_exceptions = False  # errors raised, not printed
        self.timeout = timeout
        self.session = session if session is not None else new_session(proxy, ca_bundle)
        self._now = now

    def __repr__(self) -> str:
        return "YahooProvider()"

    def tickers(self) -> list[str]:
        return []

    def history(
        self, ticker: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> PriceHistory:
        import yfinance

        symbol = normalize_ticker(ticker)
        source = yfinance.Ticker(symbol, session=self.session)
        try:
            raw = source.history(
                period=HISTORY_RANGE, interval="1d", auto_adjust=False, timeout=self.timeout
            )
            meta = source.history_metadata
        except Exception as exc:
            raise self._error(exc, symbol) from None
        if raw is None or raw.empty or "Close" not in raw:
            raise NotFound(f"{LABEL} has no prices for {symbol}.")
        calendar = calendar_of(symbol, meta.get("instrumentType"))
        frame = self._closed_sessions(make_frame(raw.index, _columns(raw)), calendar)
        frame = clip(frame, start, end)
        if frame.empty:
            raise NotFound(f"{LABEL} has no prices for {symbol}.")
        return PriceHistory(
            symbol,
            self.name,
            frame,
            self.attribution,
            currency=str(meta.get("currency") or "USD"),
            calendar=calendar,
            name=str(meta.get("longName") or meta.get("shortName") or ""),
        )

    def reachable(self) -> bool | None:
        """Whether Yahoo's host can be reached from here (any answer will do): False when it
        cannot, None when it did not answer in time or failed otherwise."""
        try:
            self.session.get(PROBE_URL, timeout=self.timeout, allow_redirects=False)
        except Exception as exc:
            return False if _unreachable(exc) else None
        return True

    def _closed_sessions(self, frame: pd.DataFrame, calendar: str) -> pd.DataFrame:
        """Without a row for a session still trading: its price is not the day's close."""
        closed = last_closed_session(calendar, self._now())
        return frame if closed is None else frame[frame.index <= closed]

    def search(self, query: str) -> list[Match]:
        """Yahoo's matches for a company name or symbol, best first."""
        import yfinance

        try:
            found = yfinance.Search(
                query,
                max_results=SEARCH_RESULTS,
                news_count=0,
                lists_count=0,
                include_cb=False,
                recommended=0,
                session=self.session,
                timeout=self.timeout,
            )
        except Exception as exc:
            raise self._error(exc, query) from None
        matches = []
        for quote in found.quotes:
            symbol = str(quote.get("symbol") or "")
            if not symbol:
                continue
            matches.append(
                Match(
                    ticker=symbol,
                    name=str(quote.get("longname") or quote.get("shortname") or symbol),
                    exchange=str(quote.get("exchDisp") or quote.get("exchange") or ""),
                    kind=str(quote.get("typeDisp") or quote.get("quoteType") or ""),
                )
            )
        return matches

    def _error(self, exc: Exception, symbol: str) -> Exception:
        from yfinance.data import YfData
        from yfinance.exceptions import YFRateLimitError, YFTickerMissingError

        # The library keeps some answers for its process (its time-zone look-up among them),
        # failed ones too: a ticker whose look-up once failed would fail until a restart.
        YfData.cache_get.cache_clear()

        status = getattr(getattr(exc, "response", None), "status_code", None)
        if isinstance(exc, YFTickerMissingError) or status == 404:
            return NotFound(f"{LABEL} has no prices for {symbol}.")
        if _unreachable(exc):
            log.warning("%s cannot be reached (%s): %s", LABEL, symbol, type(exc).__name__)
            return unreachable(LABEL)
        if isinstance(exc, YFRateLimitError):
            log.warning("%s is limiting our requests (%s)", LABEL, symbol)
            return ProviderError(
                f"{LABEL} is limiting this site's requests; try again in a minute.",
                retry_after=RATE_LIMIT_RETRY,
            )
        log.warning("%s failed for %s: %s", LABEL, symbol, type(exc).__name__)
        return ProviderError(f"{LABEL} did not answer; try again later.")


def _unreachable(exc: Exception) -> bool:
    """Whether curl said the host (or the proxy on the way) cannot be reached at all."""
    code = getattr(exc, "code", None)
    tunnel = code == 56 and "CONNECT tunnel failed" in str(exc)
    return code in UNREACHABLE_CODES or tunnel


def _columns(raw: pd.DataFrame) -> dict[str, Any]:
    return {ours: raw[theirs].to_numpy() for theirs, ours in COLUMNS.items() if theirs in raw}
