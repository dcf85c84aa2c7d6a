"""One GET to an online price provider, with every transport failure turned into a sentence.

Nothing here logs or repeats a URL's query string or a header: that is where the keys travel.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from tickercast.errors import ProviderError, SourceUnreachable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProviderReply:
    """A price provider's HTTP answer: its status, its JSON, and how long it asks us to wait."""

    status: int
    body: Any  # the decoded JSON, or None when the body was not JSON
    retry_after: int | None


def get_json(
    client: httpx.Client,
    label: str,
    url: str,
    *,
    timeout: float,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> ProviderReply:
    """GET `url`; a timeout or a network failure is a `ProviderError` naming `label`, and a
    host that cannot be reached at all a `SourceUnreachable`."""
    try:
        response = client.get(url, params=params, headers=headers, timeout=timeout)
    except (httpx.ConnectError, httpx.ProxyError) as exc:
        # Its name unresolved, its connection refused, or a proxy refusing the way there.
        log.warning("%s: cannot be reached (%s) at %s", label, type(exc).__name__, url)
        raise unreachable(label) from None
    except httpx.TimeoutException:
        log.warning("%s: no answer within %g s from %s", label, timeout, url)
        raise ProviderError(
            f"{label} did not answer within {timeout:g} s; try again later."
        ) from None
    except httpx.HTTPError as exc:
        log.warning("%s: %s from %s", label, type(exc).__name__, url)
        raise ProviderError(f"{label} broke off its answer; try again later.") from None
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        body = None
    return ProviderReply(response.status_code, body, _retry_after(response))


def _retry_after(response: httpx.Response) -> int | None:
    value = response.headers.get("retry-after", "")
    return int(value) if value.isdigit() else None


def reachable(client: httpx.Client, label: str, url: str, *, timeout: float) -> bool | None:
    """Whether `url`'s host answers at all (any HTTP answer will do): True, False when it
    cannot be reached, None when it did not answer in time or failed otherwise."""
    try:
        client.head(url, timeout=timeout)
    except (httpx.ConnectError, httpx.ProxyError):
        return False
    except httpx.HTTPError:
        return None
    return True


def unreachable(label: str) -> SourceUnreachable:
    return SourceUnreachable(f"{label} cannot be reached from this server")


def unreadable(label: str) -> ProviderError:
    return ProviderError(f"{label} sent an answer that could not be read; try again later.")


def failed(label: str, status: int) -> ProviderError:
    return ProviderError(f"{label} failed (HTTP {status}); try again later.")
