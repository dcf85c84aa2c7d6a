"""A source that cannot be reached is not one that failed: a name that does not resolve, a
refused connection and a proxy refusing the tunnel are `SourceUnreachable`; a timeout, a 5xx and
a 429 stay `ProviderError`s to retry. The price book then answers 404 for a symbol nobody
reachable knows, without remembering it as unknown, and asks the source again only every few
minutes (all on this machine: the Yahoo replay behind its CONNECT proxy, the recorded replay)."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from tests.support.recorded import TIINGO_KEY, closed_port_url
from tests.support.replay import ReplayServer
from tests.support.yahoo_replay import LISTINGS, YahooReplay
from tickercast.data import prices
from tickercast.data.embedded import EmbeddedProvider
from tickercast.data.prices import PriceBook
from tickercast.data.tiingo import TiingoProvider
from tickercast.data.yahoo import YahooProvider
from tickercast.errors import PricesUnavailable, ProviderError, SourceUnreachable, UnknownTicker
from tickercast.runtime.redis_store import Store

START, END = dt.date(2013, 2, 20), dt.date(2013, 3, 1)
# A proxy name the resolver refuses at once, on this machine (a label over 63 characters).
UNRESOLVABLE = "http://" + "x" * 70 + ".example:3128"


def yahoo_through(yahoo: YahooReplay, folder: Path, proxy: str, **options: Any) -> YahooProvider:
    from curl_cffi import requests as curl_requests

    session = curl_requests.Session(impersonate="chrome", proxy=proxy, verify=str(yahoo.ca_file))
    return YahooProvider(folder, session=session, timeout=options.pop("timeout", 5.0), **options)


@pytest.mark.parametrize("way", ["dns", "refused", "proxy-refuses"])
def test_yahoo_that_cannot_be_reached(yahoo: YahooReplay, yahoo_folder: Path, way: str) -> None:
    proxy = {"dns": UNRESOLVABLE, "refused": closed_port_url()}.get(way, yahoo.proxy_url)
    yahoo.refuse_tunnels = way == "proxy-refuses"
    provider = yahoo_through(yahoo, yahoo_folder, proxy)
    with pytest.raises(SourceUnreachable) as caught:
        provider.history("AAPL")
    assert caught.value.message == "Yahoo Finance cannot be reached from this server"
    assert provider.reachable() is False
    assert yahoo.history_requests() == 0


@pytest.mark.parametrize("way", ["timeout", "500", "429"])
def test_yahoo_that_fails_is_not_unreachable(
    yahoo: YahooReplay, provider_with: Callable[..., YahooProvider], way: str
) -> None:
    if way == "timeout":
        yahoo.stall("AAPL", 5)
    else:
        yahoo.fail("AAPL", int(way))
    provider = provider_with(timeout=0.5)
    with pytest.raises(ProviderError) as caught:
        provider.history("AAPL")
    assert not isinstance(caught.value, SourceUnreachable)
    assert provider.reachable() is True


def test_httpx_providers_tell_unreachable_from_failed(
    monkeypatch: pytest.MonkeyPatch, yahoo: YahooReplay
) -> None:
    def tiingo(url: str, client: httpx.Client | None = None) -> TiingoProvider:
        return TiingoProvider(SecretStr(TIINGO_KEY), client or httpx.Client(), url=url)

    # A name that does not resolve (the resolver's answer, simulated in this process).
    real = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "prices.example":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    refusing = httpx.Client(proxy=yahoo.proxy_url, verify=False)
    yahoo.refuse_tunnels = True
    for provider in [
        tiingo("http://prices.example"),
        tiingo(closed_port_url()),
        tiingo("https://query1.finance.yahoo.com", refusing),
    ]:
        with pytest.raises(SourceUnreachable, match="^Tiingo cannot be reached from this server"):
            provider.history("AAPL", START, END)
        assert provider.reachable() is False


def test_httpx_timeout_and_5xx_are_failures(tiingo: Callable[..., TiingoProvider]) -> None:
    for symbol, timeout in [("GOOG", 5.0), ("IBM", 0.2)]:  # recorded: a 503, a slow answer
        with pytest.raises(ProviderError) as caught:
            tiingo(timeout=timeout).history(symbol, START, END)
        assert not isinstance(caught.value, SourceUnreachable)


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2024, 6, 3, 12, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def test_an_unknown_symbol_while_yahoo_is_unreachable(
    yahoo: YahooReplay, provider_with: Callable[..., YahooProvider]
) -> None:
    clock = Clock()
    book = PriceBook(
        {"embedded": EmbeddedProvider(), "yahoo": provider_with()}, Store(None), clock=clock
    )
    yahoo.refuse_tunnels = True

    async def scenario() -> None:
        with pytest.raises(UnknownTicker) as caught:
            await book.lookup("NEWCO")
        assert caught.value.unreachable == ("Yahoo Finance",)
        assert caught.value.message.startswith(
            "no prices for NEWCO: Yahoo Finance cannot be reached from this server; "
            "the tickers available here are AAPL, "
        )
        asked = yahoo.tunnels
        assert asked >= 1 and book.unreachable_labels() == ["Yahoo Finance"]
        # Not asked again, for any symbol, until the state is re-checked.
        for symbol in ["NEWCO", "OTHER", "ZZZZ"]:
            with pytest.raises(UnknownTicker):
                await book.lookup(symbol)
        assert yahoo.tunnels == asked
        # The sample's tickers still answer, with no note about Yahoo on their page.
        answer = await book.lookup("AAPL")
        assert answer.history.provider == "embedded" and answer.unreachable == ("Yahoo Finance",)
        assert not any("Yahoo" in note for note in answer.notes(clock.now))
        # The network is back: NEWCO was not remembered as unknown, and is asked again once
        # the state is due for a re-check.
        yahoo.refuse_tunnels = False
        yahoo.serve("NEWCO", LISTINGS["IBM"])
        with pytest.raises(UnknownTicker):
            await book.lookup("NEWCO")
        clock.advance(prices.REACH_RECHECK + 1)
        found = await book.lookup("NEWCO")
        assert found.history.provider == "yahoo" and book.unreachable_labels() == []

    asyncio.run(scenario())


def test_a_transient_failure_beside_an_unreachable_source_is_503(
    yahoo: YahooReplay,
    provider_with: Callable[..., YahooProvider],
    tiingo: Callable[..., TiingoProvider],
    server: ReplayServer,
) -> None:
    provider = tiingo()
    provider.url = f"{server.url}/broken"  # an unrecorded path: the replay's 599
    book = PriceBook({"yahoo": provider_with(), "tiingo": provider}, Store(None))
    yahoo.refuse_tunnels = True
    with pytest.raises(PricesUnavailable) as caught:
        asyncio.run(book.lookup("NEWCO"))
    assert caught.value.retry_after and "Tiingo" in caught.value.message
    server.reset()  # the 599 was meant


def test_the_probe_learns_the_reach_every_few_minutes(
    yahoo: YahooReplay, provider_with: Callable[..., YahooProvider]
) -> None:
    clock = Clock()
    book = PriceBook({"yahoo": provider_with()}, Store(None), clock=clock)
    yahoo.refuse_tunnels = True

    async def scenario() -> None:
        await book.check_reach(wait=30)
        assert book.unreachable_labels() == ["Yahoo Finance"]
        asked = yahoo.tunnels
        for _ in range(5):
            await book.check_reach(wait=30)
        assert yahoo.tunnels == asked  # not per call
        yahoo.refuse_tunnels = False
        clock.advance(prices.REACH_RECHECK + 1)
        await book.check_reach(wait=30)
        assert book.unreachable_labels() == []

    asyncio.run(scenario())
