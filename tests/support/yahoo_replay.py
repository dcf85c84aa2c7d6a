"""Yahoo Finance on this machine: a local TLS server answering in Yahoo's shapes, reached
through a local CONNECT proxy, so yfinance runs its own HTTP path and nothing leaves the host.

    with YahooReplay() as yahoo:
        session = yahoo.session()               # curl_cffi, through the proxy, trusting our CA
        YahooProvider(folder, session=session).history("AAPL")

yfinance calls fixed hosts (`fc.yahoo.com` for a cookie, `query1/query2.finance.yahoo.com` for
the crumb, the chart and the search): the proxy tunnels every CONNECT to the one TLS server,
whose certificate (from a throwaway CA made here with `trustme`) names those hosts.

Answers are built from the embedded real prices (Quandl WIKI: `close` unadjusted, `adj_close`
adjusted for splits and dividends), in Yahoo's shapes: `close` adjusted for splits only,
`adjclose` for both, splits and dividends as events. `serve(symbol, Listing)` says what a
symbol answers; `fail(symbol, status)` and `stall(symbol, seconds)` break it; every request is
kept in `seen` (host, path, query). `refuse_tunnels = True` makes the proxy refuse every CONNECT
(403), as a proxy that does not let this host out does; `tunnels` counts the CONNECTs asked.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import select
import socket
import socketserver
import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import numpy as np
import pandas as pd
import trustme

from tickercast.quant import calendars

HOSTS = (
    "fc.yahoo.com",
    "query1.finance.yahoo.com",
    "query2.finance.yahoo.com",
    "guce.yahoo.com",
    "consent.yahoo.com",
    "finance.yahoo.com",
)
CRUMB = "replayCrumb0"
# The company names the search knows: (symbol, name, exchange, type).
NAMES = (
    ("AAPL", "Apple Inc.", "NASDAQ", "Equity"),
    ("APLE", "Apple Hospitality REIT, Inc.", "NYSE", "Equity"),
    ("MSFT", "Microsoft Corporation", "NASDAQ", "Equity"),
    ("IBM", "International Business Machines Corporation", "NYSE", "Equity"),
    ("GOOG", "Alphabet Inc.", "NASDAQ", "Equity"),
    ("SAP.DE", "SAP SE", "XETRA", "Equity"),
    ("7203.T", "Toyota Motor Corporation", "Tokyo", "Equity"),
)


@functools.cache
def embedded() -> pd.DataFrame:
    from bokeh_sampledata.stocks import data

    return data


@functools.lru_cache(maxsize=64)
def _rows(source: str, first: str, last: str, moved_to: str | None) -> pd.DataFrame:
    """The real prices of `source` from `first` to `last` (made once: many synthetic symbols
    are copies of the same), on the NYSE sessions that end on `moved_to` when it is set."""
    data = embedded()
    rows = data[(data["ticker"] == source)].copy()
    rows["date"] = pd.to_datetime(rows["date"])
    rows = rows[(rows["date"] >= first) & (rows["date"] <= last)]
    rows = rows.sort_values("date").reset_index(drop=True)
    if moved_to is not None:
        end = pd.Timestamp(moved_to)
        sessions = calendars.exchange_calendar("XNYS", end.year - 10, end.year).sessions
        sessions = sessions[sessions <= end][-len(rows) :]
        rows["date"] = pd.DatetimeIndex(sessions).tz_localize(None)
    return rows


@dataclass(frozen=True)
class Listing:
    """What a symbol answers: the real prices of `source` from `first` to `last`, in
    `currency` on an exchange of time zone `timezone`; `splits` {date: ratio} and `dividends`
    {date: amount} as Yahoo reports them."""

    source: str
    first: str
    last: str
    name: str = ""
    currency: str = "USD"
    timezone: str = "America/New_York"
    exchange: str = "NMS"
    opens_at: str = "09:30"
    splits: dict[str, float] = field(default_factory=dict)
    dividends: dict[str, float] = field(default_factory=dict)
    # When set, the same prices on the NYSE sessions that end on this day (today's, say).
    moved_to: str | None = None
    scale: float = 1.0  # prices times this (a synthetic symbol's own copy of real prices)

    def rows(self) -> pd.DataFrame:
        rows = _rows(self.source, self.first, self.last, self.moved_to).copy()
        if self.scale != 1.0:
            for column in ("open", "high", "low", "close", "adj_close"):
                rows[column] = rows[column] * self.scale
        return rows

    def chart(self, symbol: str, last_only: bool = False) -> dict[str, Any]:
        rows = self.rows()
        if last_only:
            rows = rows.tail(1)
        # Yahoo's close is adjusted for the splits after each day, not for dividends.
        later_splits = np.ones(len(rows))
        for day, ratio in self.splits.items():
            later_splits[(rows["date"] < day).to_numpy()] *= ratio
        stamps = self._stamps(rows["date"])
        quote = {
            c: [round(v, 4) for v in rows[c] / later_splits]
            for c in ("open", "high", "low", "close")
        }
        quote["volume"] = [int(v) for v in rows["volume"] * later_splits]
        events: dict[str, Any] = {}
        if self.splits:
            events["splits"] = {
                str(self._stamp(pd.Timestamp(d))): {
                    "date": self._stamp(pd.Timestamp(d)),
                    "numerator": ratio,
                    "denominator": 1.0,
                    "splitRatio": f"{ratio:g}:1",
                }
                for d, ratio in self.splits.items()
            }
        if self.dividends:
            events["dividends"] = {
                str(self._stamp(pd.Timestamp(d))): {
                    "amount": amount,
                    "date": self._stamp(pd.Timestamp(d)),
                }
                for d, amount in self.dividends.items()
            }
        result: dict[str, Any] = {
            "meta": self.meta(symbol, rows),
            "timestamp": stamps,
            "indicators": {
                "quote": [quote],
                "adjclose": [{"adjclose": [round(v, 6) for v in rows["adj_close"]]}],
            },
        }
        if events:
            result["events"] = events
        return {"chart": {"result": [result], "error": None}}

    def meta(self, symbol: str, rows: pd.DataFrame) -> dict[str, Any]:
        last = rows["date"].iloc[-1] if len(rows) else pd.Timestamp(self.last)
        period = {
            "timezone": "EST",
            "gmtoffset": -18000,
            "start": self._stamp(last),
            "end": self._stamp(last) + 6 * 3600,
        }
        return {
            "currency": self.currency,
            "symbol": symbol,
            "exchangeName": self.exchange,
            "fullExchangeName": self.exchange,
            "instrumentType": "EQUITY",
            "firstTradeDate": self._stamp(pd.Timestamp(self.first)),
            "regularMarketTime": self._stamp(last) + 6 * 3600,
            "hasPrePostMarketData": True,
            "gmtoffset": -18000,
            "timezone": "EST",
            "exchangeTimezoneName": self.timezone,
            "regularMarketPrice": float(rows["close"].iloc[-1]) if len(rows) else None,
            "longName": self.name or symbol,
            "shortName": self.name or symbol,
            "priceHint": 2,
            "currentTradingPeriod": {"pre": period, "regular": period, "post": period},
            "dataGranularity": "1d",
            "range": "10y",
            "validRanges": ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "max"],
        }

    def _stamps(self, days: pd.Series) -> list[int]:
        """`_stamp` of every day at once."""
        opening = pd.Timedelta(f"{self.opens_at}:00")
        local = (pd.DatetimeIndex(days).normalize() + opening).tz_localize(self.timezone)
        return [int(stamp) for stamp in local.as_unit("s").asi8]

    def _stamp(self, day: pd.Timestamp) -> int:
        local = pd.Timestamp(f"{day:%Y-%m-%d} {self.opens_at}").tz_localize(self.timezone)
        return int(local.timestamp())


def not_found(symbol: str) -> dict[str, Any]:
    return {
        "chart": {
            "result": None,
            "error": {"code": "Not Found", "description": "No data found, symbol may be delisted"},
        }
    }


def empty(listing: Listing, symbol: str) -> dict[str, Any]:
    """A known symbol with no rows, as Yahoo answers one."""
    meta = listing.meta(symbol, listing.rows().head(0))
    return {
        "chart": {
            "result": [{"meta": meta, "indicators": {"quote": [{}], "adjclose": [{}]}}],
            "error": None,
        }
    }


# The listings most tests use: real prices to the embedded data's last day.
LAST_DAY = "2013-03-01"
LISTINGS = {
    "AAPL": Listing("AAPL", "2011-03-01", LAST_DAY, "Apple Inc.", exchange="NMS"),
    "MSFT": Listing(
        "MSFT", "2012-09-04", LAST_DAY, "Microsoft Corporation", dividends={"2012-11-13": 0.23}
    ),
    "IBM": Listing("IBM", "2012-03-01", LAST_DAY, "International Business Machines"),
    # The split: AAPL's 2-for-1 of 2005-02-28.
    "AAPL2005": Listing("AAPL", "2004-12-01", "2005-04-29", "Apple Inc.", splits={"2005-02-28": 2}),
    "SAP.DE": Listing(
        "IBM",
        "2012-03-01",
        LAST_DAY,
        "SAP SE",
        currency="EUR",
        timezone="Europe/Berlin",
        exchange="GER",
        opens_at="09:00",
    ),
    "7203.T": Listing(
        "MSFT",
        "2012-03-01",
        LAST_DAY,
        "Toyota Motor Corporation",
        currency="JPY",
        timezone="Asia/Tokyo",
        exchange="JPX",
        opens_at="09:00",
    ),
}


@dataclass(frozen=True)
class Seen:
    host: str
    path: str
    query: dict[str, str]

    @property
    def symbol(self) -> str | None:
        prefix = "/v8/finance/chart/"
        return unquote(self.path[len(prefix) :]) if self.path.startswith(prefix) else None


class YahooReplay:
    def __init__(self) -> None:
        self.listings: dict[str, Listing] = dict(LISTINGS)
        self.failures: dict[str, int] = {}  # symbol -> HTTP status
        self.stalls: dict[str, float] = {}  # symbol -> seconds before answering
        self.empties: set[str] = set()
        self.refuse_tunnels = False
        self.tunnels = 0
        self.seen: list[Seen] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._folder = tempfile.TemporaryDirectory(prefix="yahoo-replay-")
        self.ca = trustme.CA()
        self.ca_file = Path(self._folder.name) / "ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert(*HOSTS).configure_cert(context)
        self._tls = _TLSServer(("127.0.0.1", 0), _YahooHandler)
        self._tls.replay = self
        self._tls.socket = context.wrap_socket(self._tls.socket, server_side=True)
        self._proxy = _ProxyServer(("127.0.0.1", 0), _ConnectHandler)
        self._proxy.target = self._tls.server_address[:2]
        self._proxy.replay = self
        self._threads = [
            threading.Thread(target=s.serve_forever, daemon=True) for s in (self._tls, self._proxy)
        ]

    # What the server answers -------------------------------------------------------------
    def serve(self, symbol: str, listing: Listing) -> None:
        self.listings[symbol] = listing

    def fail(self, symbol: str, status: int) -> None:
        self.failures[symbol] = status

    def stall(self, symbol: str, seconds: float) -> None:
        self.stalls[symbol] = seconds

    def answer_empty(self, symbol: str) -> None:
        self.empties.add(symbol)

    def heal(self) -> None:
        self.failures.clear()
        self.stalls.clear()
        self.refuse_tunnels = False

    # What the client needs ---------------------------------------------------------------
    @property
    def proxy_url(self) -> str:
        host, port = self._proxy.server_address[:2]
        return f"http://{host!s}:{port}"

    def session(self) -> Any:
        from curl_cffi import requests as curl_requests

        return curl_requests.Session(
            impersonate="chrome", proxy=self.proxy_url, verify=str(self.ca_file)
        )

    def history_requests(self, symbol: str | None = None) -> int:
        """Chart calls for prices (not yfinance's one-day time-zone look-ups)."""
        with self._lock:
            return sum(
                1
                for s in self.seen
                if s.symbol is not None
                and (symbol is None or s.symbol == symbol)
                and s.query.get("range") != "1d"
            )

    def count(self, path_start: str) -> int:
        with self._lock:
            return sum(1 for s in self.seen if s.path.startswith(path_start))

    def reset(self) -> None:
        with self._lock:
            self.seen.clear()
            self.tunnels = 0
        self.heal()
        self.empties.clear()
        self.listings = dict(LISTINGS)

    def record(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)

    def __enter__(self) -> YahooReplay:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        for server in (self._proxy, self._tls):
            server.shutdown()
            server.server_close()
        self._folder.cleanup()


class _TLSServer(ThreadingHTTPServer):
    daemon_threads = True
    replay: YahooReplay

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that give up (the timeout tests) are expected."""


class _YahooHandler(BaseHTTPRequestHandler):
    server: _TLSServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        parts = urlsplit(self.path)
        host = (self.headers.get("Host") or "").split(":")[0]
        seen = Seen(host, parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)))
        replay = self.server.replay
        replay.record(seen)
        if host == "fc.yahoo.com":
            expires = (dt.datetime.now(dt.UTC) + dt.timedelta(days=365)).strftime(
                "%a, %d %b %Y %H:%M:%S GMT"
            )
            cookie = f"A3=d=replay&S=cookie; Expires={expires}; Domain=.yahoo.com; Path=/; Secure"
            self._send(404, b"<html>not here</html>", "text/html", {"Set-Cookie": cookie})
        elif parts.path == "/v1/test/getcrumb":
            self._send(200, CRUMB.encode(), "text/plain")
        elif parts.path == "/v1/finance/search":
            self._json(200, search(seen.query.get("q", "")))
        elif seen.symbol is not None:
            self._chart(seen)
        else:
            self._send(404, b"<html>no such page</html>", "text/html")

    def _chart(self, seen: Seen) -> None:
        replay = self.server.replay
        symbol = seen.symbol or ""
        prices = seen.query.get("range") != "1d"  # not yfinance's time-zone look-up
        if prices and symbol in replay.stalls and replay.stopping.wait(replay.stalls[symbol]):
            return
        if symbol in replay.failures:
            status = replay.failures[symbol]
            self._send(status, b"Too Many Requests" if status == 429 else b"error", "text/plain")
            return
        listing = replay.listings.get(symbol)
        if listing is None:
            self._json(404, not_found(symbol))
        elif symbol in replay.empties:
            self._json(200, empty(listing, symbol))
        else:
            self._json(200, listing.chart(symbol, last_only=seen.query.get("range") == "1d"))

    def _json(self, status: int, body: Any) -> None:
        self._send(status, json.dumps(body).encode(), "application/json")

    def _send(
        self, status: int, body: bytes, kind: str, headers: dict[str, str] | None = None
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass


def search(query: str) -> dict[str, Any]:
    words = query.lower().split()
    quotes = [
        {
            "exchange": exchange,
            "shortname": name,
            "longname": name,
            "quoteType": "EQUITY",
            "symbol": symbol,
            "typeDisp": kind,
            "exchDisp": exchange,
            "isYahooFinance": True,
        }
        for symbol, name, exchange, kind in NAMES
        if words and all(w in name.lower() or w == symbol.lower() for w in words)
    ]
    return {"explains": [], "count": len(quotes), "quotes": quotes, "news": [], "nav": []}


class _ProxyServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    target: tuple[Any, ...]
    replay: YahooReplay


class _ConnectHandler(socketserver.BaseRequestHandler):
    """`CONNECT host:443`: a tunnel to the replay's TLS server, whatever the host (so nothing
    reaches the internet); anything else is refused."""

    server: _ProxyServer

    def handle(self) -> None:
        client: socket.socket = self.request
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(4096)
            if not chunk:
                return
            head += chunk
        line = head.split(b"\r\n", 1)[0].decode("latin-1").split()
        replay = self.server.replay
        with replay._lock:
            replay.tunnels += 1
        if replay.refuse_tunnels:
            client.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        if len(line) < 2 or line[0] != "CONNECT" or line[1].split(":")[0] not in HOSTS:
            client.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        with socket.create_connection(self.server.target) as upstream:
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            _pipe(client, upstream, self.server.replay.stopping)


def _pipe(a: socket.socket, b: socket.socket, stopping: threading.Event) -> None:
    peers = {a: b, b: a}
    while not stopping.is_set():
        ready, _, _ = select.select(list(peers), [], [], 0.5)
        for sock in ready:
            try:
                data = sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            peers[sock].sendall(data)
