"""IP networks from a setting's text: what the model service's settings check at start and
its callers' addresses are matched against (model/callers.py)."""

from __future__ import annotations

import ipaddress

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
