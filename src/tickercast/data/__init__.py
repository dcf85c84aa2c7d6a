"""Daily prices from several providers behind one small protocol (see `base`).

    build_providers(settings, client) -> {name: PriceProvider}          embedded, nasdaq, tiingo
    resolve(providers, ticker, source, start, end) -> PriceHistory     first provider that has it
                                                                        (blocking, uncached)
    parse_upload(content, max_bytes, name) -> PriceHistory              a user's CSV, not stored
    yahoo.YahooProvider(cache_dir, ...)                                 Yahoo through yfinance
    prices.PriceBook(providers, store, budget=...)                      async: the most recent
        .lookup(ticker) -> PriceLookup, .history(ticker),              source, cached until the
        .search(text), .find(text)                                     exchange's next close
    exchanges.calendar_of(symbol), seconds_until_stale(calendar)       a ticker's exchange

Errors: `NotFound` (unknown ticker or source; `UnknownTicker` from the price book),
`ProviderError` (a provider failed; the message is a sentence for the user, never holding a
key), `PricesUnavailable` (no source answered and nothing kept: 503), `InvalidInput` (a bad
ticker or CSV), `RequestTooLarge` (a CSV over the limit).
"""

from tickercast.data.base import PRICE_COLUMNS, PriceHistory, PriceProvider
from tickercast.data.registry import build_providers, resolve
from tickercast.data.upload import parse_upload

__all__ = [
    "PRICE_COLUMNS",
    "PriceHistory",
    "PriceProvider",
    "build_providers",
    "parse_upload",
    "resolve",
]
