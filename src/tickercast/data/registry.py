"""The price providers this deployment offers, and finding a ticker among them."""

from __future__ import annotations

import datetime as dt

import httpx

from tickercast.cache import Cache, make_cache
from tickercast.data.base import PriceHistory, PriceProvider
from tickercast.data.embedded import EmbeddedProvider
from tickercast.data.nasdaq import NasdaqDataLinkProvider
from tickercast.data.tiingo import TiingoProvider
from tickercast.errors import NotFound, ProviderError
from tickercast.settings import ProviderSettings

CACHE_NAMESPACE = "prices"
CACHE_MAX_ITEMS = 2_000


def build_providers(
    settings: ProviderSettings, client: httpx.Client | None = None, cache: Cache | None = None
) -> dict[str, PriceProvider]:
    """Embedded sample data always; Nasdaq Data Link and Tiingo when their keys are set.

    `client` is the app's HTTP client (one is made when it is None; the app should pass its
    own and close it on shutdown); `cache` defaults to the shared cache of `settings.redis_url`.
    """
    providers: dict[str, PriceProvider] = {"embedded": EmbeddedProvider()}
    online = settings.nasdaq_data_link_api_key or settings.tiingo_api_key
    if not online:
        return providers
    if client is None:
        client = httpx.Client(timeout=settings.provider_timeout)
    if cache is None:  # not `or`: an empty cache is falsy
        cache = make_cache(settings.redis_url, CACHE_NAMESPACE, CACHE_MAX_ITEMS)
    if settings.nasdaq_data_link_api_key:
        providers["nasdaq"] = NasdaqDataLinkProvider(
            settings.nasdaq_data_link_api_key,
            client,
            cache,
            table=settings.nasdaq_data_link_table,
            url=settings.nasdaq_data_link_url,
            timeout=settings.provider_timeout,
        )
    if settings.tiingo_api_key:
        providers["tiingo"] = TiingoProvider(
            settings.tiingo_api_key,
            client,
            cache,
            url=settings.tiingo_url,
            timeout=settings.provider_timeout,
        )
    return providers


def resolve(
    providers: dict[str, PriceProvider],
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
        if source not in providers:
            raise NotFound(
                f"There is no price source {source[:20]!r}; choose one of {', '.join(providers)}."
            )
        return providers[source].history(ticker, start, end)
    failure: ProviderError | None = None
    for provider in providers.values():
        try:
            return provider.history(ticker, start, end)
        except NotFound:
            continue
        except ProviderError as exc:
            failure = failure or exc
    if failure is not None:
        raise failure
    raise NotFound(f"No price source has the ticker {ticker.strip()[:20]!r}.")
