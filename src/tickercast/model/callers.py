"""Who is calling, and how many wrong keys they sent lately.

"Client" as CONTRACT.md defines it: the peer address, or the first address in
`X-Forwarded-For` when the peer is one of the configured trusted proxies (so clients behind the
load balancer are told apart, and one of them cannot lock out the others). A client that sent
too many wrong keys lately is answered 429 before its key is even looked at; the count is a
`RateLimit`: in Redis when configured, so every worker and replica shares it, and in this
process while Redis does not answer.

`Callers.admit` is the one place that orders the checks of a caller (docs/contract.md).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tickercast.contract import check_key
from tickercast.errors import InvalidKey
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


class FailedKeys:
    """Wrong keys per client over a moving window; past the limit, 429 with Retry-After."""

    def __init__(self, rate: str, store: Store) -> None:
        self.limit = RateLimit(rate, store, "model-failed-keys", "too many wrong keys; retry later")

    async def check(self, client: str) -> None:
        """429 when `client` has used up its wrong keys."""
        await self.limit.check(client)

    async def record(self, client: str) -> None:
        await self.limit.count(client)


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
        """The order of docs/contract.md, after the body is read: a client with too many wrong
        keys lately, then the key, then the key's request rate."""
        client = client_address(peer, headers, self.proxies)
        await self.failed_keys.check(client)
        try:
            check_key(data, self.keys)
        except InvalidKey:
            await self.failed_keys.record(client)
            raise
        await self.requests.hit(data["key"])
