"""The price providers this deployment offers, and `Prices`: finding a ticker among them.

`Prices` is the one async way to prices: an online provider's fetch (a blocking network call)
runs in a worker thread, and what it fetched is kept in the shared cache (Redis through the
process's fail-open store, else this process) until the provider can have a newer day; the
in-memory providers answer at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

import anyio.to_thread
import httpx

from tickercast.cache import SharedCache
from tickercast.data.base import PriceHistory, PriceProvider
from tickercast.data.caching import seconds_until_stale
from tickercast.data.embedded import EmbeddedProvider
from tickercast.data.frames import dumps_frame, loads_frame, normalize_ticker
from tickercast.data.nasdaq import NasdaqDataLinkProvider
from tickercast.data.online import OnlineProvider
from tickercast.data.tiingo import TiingoProvider
from tickercast.errors import NotFound, ProviderError
from tickercast.settings import WebSettings

# Told of every online lookup: (provider name, "cached" | "ok" | "not_found" | "error").
PriceObserver = Callable[[str, str], None]


def build_providers(
    settings: WebSettings, client: httpx.Client | None = None
) -> dict[str, PriceProvider]:
    """Embedded sample data always; Nasdaq Data Link and Tiingo when their keys are set.

    `client` is the HTTP client of the online providers (one is made when it is None)."""
    providers: dict[str, PriceProvider] = {"embedded": EmbeddedProvider()}
    online = settings.nasdaq_data_link_api_key or settings.tiingo_api_key
    if not online:
        return providers
    if client is None:
        client = httpx.Client(timeout=settings.provider_timeout)
    if settings.nasdaq_data_link_api_key:
        providers["nasdaq"] = NasdaqDataLinkProvider(
            settings.nasdaq_data_link_api_key,
            client,
            table=settings.nasdaq_data_link_table,
            url=settings.nasdaq_data_link_url,
            timeout=settings.provider_timeout,
        )
    if settings.tiingo_api_key:
        providers["tiingo"] = TiingoProvider(
            settings.tiingo_api_key,
            client,
            url=settings.tiingo_url,
            timeout=settings.provider_timeout,
        )
    return providers


class Prices:
    """The providers in order, each online one's fetches kept in `cache`; `observe` is told
    of every online lookup."""

    def __init__(
        self,
        providers: Mapping[str, PriceProvider],
        cache: SharedCache,
        observe: PriceObserver | None = None,
    ) -> None:
        self.providers = dict(providers)
        self.cache = cache
        self._observe = observe or (lambda name, outcome: None)

    def tickers(self) -> list[dict[str, str]]:
        """Every ticker any provider offers, for the picker."""
        return [
            {"ticker": ticker, "source": name, "label": provider.label}
            for name, provider in self.providers.items()
            for ticker in provider.tickers()
        ]

    async def history(
        self,
        ticker: str,
        source: str | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
    ) -> PriceHistory:
        """The prices of `ticker` from `source`, or from the first provider that has them.

        Without a source, a provider that fails is skipped; if none has the ticker, the first
        failure is raised (it may have had it), else `NotFound`.
        """
        if source is not None:
            if source not in self.providers:
                raise NotFound(
                    f"There is no price source {source[:20]!r}; "
                    f"choose one of {', '.join(self.providers)}."
                )
            return await self._history(self.providers[source], ticker, start, end)
        failure: ProviderError | None = None
        for provider in self.providers.values():
            try:
                return await self._history(provider, ticker, start, end)
            except NotFound:
                continue
            except ProviderError as exc:
                failure = failure or exc
        if failure is not None:
            raise failure
        raise NotFound(f"No price source has the ticker {ticker.strip()[:20]!r}.")

    async def _history(
        self,
        provider: PriceProvider,
        ticker: str,
        start: dt.date | None,
        end: dt.date | None,
    ) -> PriceHistory:
        if not isinstance(provider, OnlineProvider):
            return provider.history(ticker, start, end)  # in memory
        symbol = normalize_ticker(ticker)
        key = provider.cache_key(symbol, start, end)
        raw = await self.cache.get(key)
        if raw is not None:
            self._observe(provider.name, "cached")
            return provider.priced(symbol, loads_frame(raw), start, end)
        try:
            frame = await anyio.to_thread.run_sync(provider.fetch, symbol, start, end)
        except NotFound:
            self._observe(provider.name, "not_found")
            raise
        except Exception:
            self._observe(provider.name, "error")
            raise
        self._observe(provider.name, "ok")
        await self.cache.set(key, dumps_frame(frame), ttl=seconds_until_stale())
        return provider.priced(symbol, frame, start, end)
