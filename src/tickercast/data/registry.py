"""The price providers this deployment offers (the one place they are made), and finding a
ticker among them in batch commands (`resolve`: blocking, uncached). Requests go through the
async `prices.PriceBook`, which caches every online fetch in the process's fail-open store."""

from __future__ import annotations

import datetime as dt

import httpx

from tickercast.data.base import PriceHistory, PriceProvider
from tickercast.data.embedded import EmbeddedProvider
from tickercast.data.nasdaq import NasdaqDataLinkProvider
from tickercast.data.tiingo import TiingoProvider
from tickercast.errors import NotFound, ProviderError
from tickercast.settings import ProviderSettings


def build_providers(
    settings: ProviderSettings, client: httpx.Client | None = None
) -> dict[str, PriceProvider]:
    """Embedded sample data always; Nasdaq Data Link and Tiingo when their keys are set.

    `client` is the online providers' HTTP client (one is made when it is None)."""
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
