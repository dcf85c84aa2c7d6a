"""The price book: the most recent source answers, one fetch per ticker and day whatever the
traffic (in a process and across processes sharing Redis), the last prices kept for when a
source fails, one time budget for all sources together."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator

import pytest

from tests.support.clock import Clock
from tests.support.redis_server import redis_server, url_of
from tests.support.yahoo_replay import LISTINGS, Listing, YahooReplay
from tickercast.cli.processes import free_port
from tickercast.data.embedded import EmbeddedProvider
from tickercast.data.prices import ERROR_BACKOFF, PriceBook, PriceLookup
from tickercast.errors import PricesUnavailable, UnknownTicker
from tickercast.runtime.redis_store import Store


@pytest.fixture
def book(provider) -> PriceBook:
    return PriceBook({"embedded": EmbeddedProvider(), "yahoo": provider}, Store(None), budget=3)


def run(coroutine):
    return asyncio.run(coroutine)


def test_the_most_recent_source_answers(book: PriceBook, yahoo: YahooReplay):
    # Same last day as the sample data: Yahoo, first in priority, answers.
    prices = run(book.lookup("AAPL"))
    assert (prices.history.provider, prices.unanswered, prices.last_copy) == ("yahoo", (), False)
    # Yahoo a year behind: the sample data is more recent.
    older = Listing("IBM", "2011-01-03", "2012-03-01", "IBM")
    yahoo.serve("IBM", older)
    assert run(book.lookup("IBM")).history.provider == "embedded"


def test_one_fetch_for_many_simultaneous_requests(provider, yahoo: YahooReplay):
    events: list[tuple[str, str]] = []
    book = PriceBook({"yahoo": provider}, Store(None), observe=lambda *e: events.append(e))

    async def many() -> list:
        return await asyncio.gather(*[book.lookup(t) for t in ["MSFT", "msft", "IBM"] * 10])

    answers = run(many())
    assert {a.history.ticker for a in answers} == {"MSFT", "IBM"}
    assert yahoo.history_requests("MSFT") == 1 and yahoo.history_requests("IBM") == 1
    run(book.lookup("MSFT"))  # later: from the store
    assert yahoo.history_requests("MSFT") == 1
    assert events.count(("yahoo", "ok")) == 2 and ("yahoo", "cached") in events


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    port = free_port()
    with redis_server(port):
        yield url_of(port)


def test_one_fetch_across_processes_sharing_redis(provider_with, yahoo: YahooReplay, redis_url):
    """Two workers (two books, each its own store and memory) on one Redis."""

    async def two_workers() -> None:
        stores = [Store(redis_url), Store(redis_url)]
        books = [PriceBook({"yahoo": provider_with()}, s, budget=60) for s in stores]
        await asyncio.gather(*[b.lookup("7203.T") for b in books for _ in range(5)])
        await asyncio.gather(*[s.close() for s in stores])

    run(two_workers())
    assert yahoo.history_requests("7203.T") == 1


def test_a_failing_source_serves_its_last_prices(provider, yahoo: YahooReplay):
    clock = Clock("2013-03-04 10:00")  # a Monday morning in Frankfurt: fresh until its close
    book = PriceBook({"yahoo": provider}, Store(None), budget=3, clock=clock)
    yahoo.serve("SAP.DE", LISTINGS["SAP.DE"])
    assert run(book.lookup("SAP.DE")).last_copy is False
    clock.now += dt.timedelta(hours=8)  # 18:00: Xetra's close is not published yet
    yahoo.fail("SAP.DE", 500)
    assert run(book.lookup("SAP.DE")).last_copy is False
    assert yahoo.history_requests("SAP.DE") == 1
    clock.now += dt.timedelta(hours=1)  # 19:00: the day's prices are old now
    prices = run(book.lookup("SAP.DE"))
    assert prices.last_copy and prices.unanswered == ("Yahoo Finance",)
    assert str(prices.history.last_date) == "2013-03-01"
    requests = yahoo.history_requests("SAP.DE")
    clock.now += dt.timedelta(seconds=ERROR_BACKOFF - 1)
    run(book.lookup("SAP.DE"))  # a failing source is left alone for a while
    assert yahoo.history_requests("SAP.DE") == requests


def test_no_prices_at_all_is_unavailable_with_a_wait(book: PriceBook, yahoo: YahooReplay):
    yahoo.fail("7203.T", 429)
    with pytest.raises(PricesUnavailable, match="Yahoo Finance did not answer") as caught:
        run(book.lookup("7203.T"))
    assert caught.value.status == 503 and caught.value.retry_after == 60


def test_an_unknown_symbol_and_a_silent_source_within_the_budget(
    provider_with, yahoo: YahooReplay, caplog
):
    book = PriceBook({"embedded": EmbeddedProvider(), "yahoo": provider_with()}, Store(None))
    with pytest.raises(UnknownTicker, match="no prices for ZZZZ") as caught:
        run(book.lookup("zzzz"))
    assert caught.value.symbol == "ZZZZ"
    # A source that does not answer costs the pages the budget, not its own timeout (5 s):
    # its fetch is still going when both pages have their answer from the others.
    yahoo.stall("IBM", 10)
    clock = Clock("2026-12-07 15:00")
    providers = {"embedded": EmbeddedProvider(), "yahoo": provider_with()}
    book = PriceBook(providers, Store(None), budget=0.5, clock=clock)

    async def twice() -> tuple[list[PriceLookup], bool]:
        first = await book.lookup("IBM")
        clock.now += dt.timedelta(seconds=1)  # the fetch is now later than any page's budget
        caplog.clear()
        second = await book.lookup("IBM")
        return [first, second], book.answering("yahoo") is None

    answers, still_fetching = run(twice())  # one loop: the fetch belongs to it
    assert [a.history.provider for a in answers] == ["embedded", "embedded"]
    assert all(a.unanswered == ("Yahoo Finance",) for a in answers)
    assert still_fetching
    # A fetch already late for a page is not waited for again: the second page's Yahoo
    # ended at once (no "did not answer within" the budget).
    assert "did not answer for IBM" not in caplog.text


def test_search_by_name_online_and_offline(book: PriceBook):
    assert run(book.find("apple")) == "AAPL"
    assert run(book.find("sap.de")) == "SAP.DE"
    assert run(book.find("ZZZZ")) == "ZZZZ"  # nothing matches: its page will say so
    offline = PriceBook({"embedded": EmbeddedProvider()}, Store(None))
    assert run(offline.find("Microsoft")) == "MSFT"
    assert [m.ticker for m in run(offline.search("international business"))] == ["IBM"]
