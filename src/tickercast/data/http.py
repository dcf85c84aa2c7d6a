"""One GET to an online price provider, with every transport failure turned into a sentence.

Nothing here logs or repeats a URL's query string or a header: that is where the keys travel.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from tickercast.errors import ProviderError

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
    """GET `url`; a timeout or a network failure is a `ProviderError` naming `label`."""
    try:
        response = client.get(url, params=params, headers=headers, timeout=timeout)
    except httpx.TimeoutException:
        log.warning("%s: no answer within %g s from %s", label, timeout, url)
        raise ProviderError(
            f"{label} did not answer within {timeout:g} s; try again later."
        ) from None
    except httpx.HTTPError as exc:
        log.warning("%s: %s from %s", label, type(exc).__name__, url)
        raise ProviderError(f"{label} could not be reached; try again later.") from None
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        body = None
    return ProviderReply(response.status_code, body, _retry_after(response))


def _retry_after(response: httpx.Response) -> int | None:
    value = response.headers.get("retry-after", "")
    return int(value) if value.isdigit() else None


def unreadable(label: str) -> ProviderError:
    return ProviderError(f"{label} sent an answer that could not be read; try again later.")


def failed(label: str, status: int) -> ProviderError:
    return ProviderError(f"{label} failed (HTTP {status}); try again later.")
