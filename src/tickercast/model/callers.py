"""Who is calling, and whether its key or its address decides.

"Client" as docs/contract.md defines it: the peer address, or the first address in
`X-Forwarded-For` when the peer is one of the configured trusted proxies. The key decides first:
it is compared in constant time before anything about the address is looked at, and a right key
is served whatever else came from its address (a web app sharing an outgoing address with
someone who floods wrong keys is not locked out). A missing or wrong key is refused cheaply,
and an address that sent too many wrong keys lately gets 429 for every keyless or wrongly keyed
request; the count is a `RateLimit`: in Redis when configured, so every worker and replica
shares it, and in this process while Redis does not answer. Guessing is kept infeasible by the
keys' strength, not by the count (docs/contract.md says why).

`Callers.admit` is the one place that orders the checks of a caller (docs/contract.md).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tickercast.contract import check_key
from tickercast.errors import InvalidKey, NoKey
from tickercast.runtime.networks import Network
from tickercast.runtime.ratelimit import RateLimit
from tickercast.runtime.redis_store import Store


def client_address(peer: str | None, headers: Mapping[str, str], trusted: Sequence[Network]) -> str:
    peer = peer or "unknown"
    forwarded = headers.get("x-forwarded-for")
    if not forwarded or not _is_in(peer, trusted):
        return peer
    first = forwarded.split(",")[0].strip()
    try:
        return str(ipaddress.ip_address(first))
    except ValueError:
        return peer  # a forwarded value that is not an address: count it against the proxy


def _is_in(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


# Shorter keys are warned about at start: random keys should have at least 24 bytes.
SHORTEST_KEY = 16
log = logging.getLogger("tickercast.model")


class FailedKeys:
    """Wrong keys per client over a moving window; past the limit, 429 with Retry-After for
    every request from that client that lacks a right key."""

    def __init__(self, rate: str, store: Store) -> None:
        self.limit = RateLimit(rate, store, "model-failed-keys", "too many wrong keys; retry later")

    async def admit(self, client: str, data: Mapping[str, Any], keys: Sequence[bytes]) -> None:
        """Return when `data` holds one of `keys`; else 429 when `client` has used up its wrong
        keys, or 401 (no key) / 403 (a wrong key, counted against `client`)."""
        try:
            check_key(data, keys)
        except NoKey:
            await self.limit.check(client)
            raise
        except InvalidKey:
            await self.limit.check(client)
            await self.limit.count(client)
            raise


@dataclass(frozen=True)
class Callers:
    """Who may ask: the accepted keys, the wrong keys per client, each key's request rate."""

    keys: Sequence[bytes]
    failed_keys: FailedKeys
    requests: RateLimit  # per key: every request, cached answers included
    proxies: Sequence[Network]  # whose X-Forwarded-For names the client

    async def admit(
        self, peer: str | None, headers: Mapping[str, str], data: Mapping[str, Any]
    ) -> None:
        """The order of docs/contract.md, after the body is read: the key (without a right
        one, the client's wrong keys lately: 429, else 401/403), then the key's request rate."""
        client = client_address(peer, headers, self.proxies)
        await self.failed_keys.admit(client, data, self.keys)
        await self.requests.hit(data["key"])


def warn_short_keys(keys: Sequence[bytes]) -> int:
    """Log a warning, naming the risk but never a key, when any of `keys` is shorter than
    SHORTEST_KEY characters; how many are."""
    short = sum(len(key.decode()) < SHORTEST_KEY for key in keys)
    if short:
        log.warning(
            "%d of %d MODEL_API_KEYS is shorter than %d characters: a short key can be guessed, "
            "and a right guess is served whatever its address sent before. Use random keys of "
            "at least 24 bytes, e.g. $(openssl rand -hex 32)",
            short,
            len(keys),
            SHORTEST_KEY,
        )
    return short
