"""The exceptions of tickercast, each carrying the HTTP status it maps to.

    TickercastError (500)              anything unexpected; its message is never shown
    ├── InvalidFormat (400)            body is not a JSON object
    ├── InvalidInput (400)             a field is missing or unreadable; says which and where
    ├── NoKey (401)                    no `key` submitted
    ├── InvalidKey (403)               a `key` that is not accepted
    ├── NotFound (404)                 an unknown ticker or page
    │   └── UnknownTicker (404)        no price source has the symbol; knows which symbol
    ├── RequestTooLarge (413)          body or upload over its size limit
    ├── RateLimited (429)              a key over its request rate; has retry_after
    ├── ServiceBusy (503)              every worker busy, or a fit ran out of time; has retry_after
    └── UpstreamError (502)            a price provider or the model service failed us
        └── ProviderError (502)        a price provider failed; says which and why
            ├── SourceUnreachable (502)  a price provider cannot be reached from here at all
            └── PricesUnavailable (503)  no source answered and no earlier prices kept

`error_body` is the one place the JSON error shape `{"message": ...}` is built.
"""

from __future__ import annotations

import orjson


class TickercastError(Exception):
    status = 500
    public_message = "internal error; the details are in the service log"

    def __init__(self, message: str | None = None, *, retry_after: int | None = None) -> None:
        super().__init__(message or self.public_message)
        self.message = message or self.public_message
        self.retry_after = retry_after

    @property
    def client_message(self) -> str:
        """What the client may see: 5xx errors other than our own 503s stay generic."""
        if self.status >= 500 and not isinstance(self, ServiceBusy | UpstreamError):
            return TickercastError.public_message
        return self.message


class InvalidFormat(TickercastError):
    status = 400
    public_message = "invalid data format"


class InvalidInput(TickercastError):
    status = 400
    public_message = "invalid input"

    def __init__(self, detail: str) -> None:
        super().__init__(f"invalid input: {detail}")


class NoKey(TickercastError):
    status = 401
    public_message = "no key submitted"


class InvalidKey(TickercastError):
    status = 403
    public_message = "invalid key"


class NotFound(TickercastError):
    status = 404
    public_message = "not found"


class UnknownTicker(NotFound):
    """`unreachable`: the labels of the sources that might know the symbol but cannot be
    reached from this server (so it is unknown only for now)."""

    def __init__(self, symbol: str, message: str, unreachable: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.symbol = symbol
        self.unreachable = unreachable


class RequestTooLarge(TickercastError):
    status = 413
    public_message = "request too large"


class RateLimited(TickercastError):
    status = 429
    public_message = "rate limit exceeded"


class ServiceBusy(TickercastError):
    status = 503
    public_message = "service busy, retry later"


class UpstreamError(TickercastError):
    status = 502
    public_message = "an upstream service failed"


def error_body(message: str) -> bytes:
    return orjson.dumps({"message": message})


class ProviderError(UpstreamError):
    """A price provider failed; the message is a sentence for the user, with no secret in it."""


class SourceUnreachable(ProviderError):
    """A price provider cannot be reached from this server: its name does not resolve, its
    connection is refused, or a proxy refuses the way there. Not a hiccup: asking again in a
    minute will not help, and a symbol it might know is not thereby unknown."""


class PricesUnavailable(ProviderError):
    """No price source answered and none of their earlier prices are kept: try again later."""

    status = 503


def sentence(message: str) -> str:
    """`message` as the web app shows it: a capital first letter and one final stop.
    A message that opens with a name from the request (`ds[3] ...`) keeps its case."""
    text = message.strip()
    if not text:
        return text
    first_word = text.split(maxsplit=1)[0].rstrip(":,;")
    if first_word.isalpha():
        text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
