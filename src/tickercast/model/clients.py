"""Who is calling, and how many wrong keys they sent lately.

"Client" as CONTRACT.md defines it: the peer address, or the first address in
`X-Forwarded-For` when the peer is one of the configured trusted proxies (so clients behind the
load balancer are told apart, and one of them cannot lock out the others). A client that sent
too many wrong keys lately is answered 429 before its key is even looked at; the count lives in
Redis when configured, so every worker and replica shares it.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Mapping, Sequence

from limits import parse as parse_rate
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from tickercast.errors import RateLimited

log = logging.getLogger("tickercast.model")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: str) -> list[Network]:
    """`"10.0.0.1, 10.1.0.0/16"` as networks; ValueError names an entry that is not one."""
    networks = []
    for entry in text.split(","):
        entry = entry.strip()
        if entry:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or network") from None
    return networks


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

    def __init__(self, rate: str, redis_url: str | None) -> None:
        self.item = parse_rate(rate)
        self.limiter = MovingWindowRateLimiter(storage_from_string(redis_url or "memory://"))

    def check(self, client: str) -> None:
        """429 when `client` has used up its wrong keys; fails open if Redis is down."""
        try:
            if self.limiter.test(self.item, "model-failed-keys", client):
                return
            reset = self.limiter.get_window_stats(self.item, "model-failed-keys", client)
        except Exception as exc:  # the store is down: keys are still checked, just not counted
            log.warning("failed-key count unavailable: %s", type(exc).__name__)
            return
        raise RateLimited(
            "too many wrong keys; retry later",
            retry_after=max(1, int(reset.reset_time - time.time()) + 1),
        )

    def record(self, client: str) -> None:
        try:
            self.limiter.hit(self.item, "model-failed-keys", client)
        except Exception as exc:
            log.warning("failed-key count unavailable: %s", type(exc).__name__)
