"""Daily prices from several providers behind one small protocol (see `base`).

    build_providers(settings, client) -> {name: PriceProvider}          embedded, nasdaq, tiingo
    Prices(providers, cache).history(ticker, source, start, end)       async; the first provider
                                                                        that has it, cached
    parse_upload(content, max_bytes, name) -> PriceHistory              a user's CSV, not stored

Errors: `NotFound` (unknown ticker or source), `ProviderError` (a provider failed; the message
is a sentence for the user, never holding a key), `InvalidInput` (a bad ticker or CSV),
`RequestTooLarge` (a CSV over the limit).
"""

from tickercast.data.base import PRICE_COLUMNS, PriceHistory, PriceProvider
from tickercast.data.registry import Prices, build_providers
from tickercast.data.upload import parse_upload

__all__ = [
    "PRICE_COLUMNS",
    "PriceHistory",
    "PriceProvider",
    "Prices",
    "build_providers",
    "parse_upload",
]
