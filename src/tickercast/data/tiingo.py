"""Daily prices from Tiingo's end-of-day API (`/tiingo/daily/<ticker>/prices`).

The key travels in the `Authorization: Token ...` header and is never put in a message.
"""

from __future__ import annotations

import datetime as dt
import logging

import httpx
import pandas as pd
from pydantic import SecretStr

from tickercast.data.frames import date_span, make_frame
from tickercast.data.http import failed, get_json, unreadable
from tickercast.data.online import OnlineProvider
from tickercast.errors import NotFound, ProviderError

log = logging.getLogger(__name__)

LABEL = "Tiingo"
# Tiingo answers with only the latest day unless a start date is given.
EARLIEST = dt.date(1900, 1, 1)
# Our column -> Tiingo's field.
FIELDS = {
    "open": "open",
    "high": "high",
    "low": "low",
    "close": "close",
    "volume": "volume",
    "adj_close": "adjClose",
}


class TiingoProvider(OnlineProvider):
    name = "tiingo"
    label = LABEL

    def __init__(
        self,
        api_key: SecretStr,
        client: httpx.Client,
        *,
        url: str = "https://api.tiingo.com",
        timeout: float = 15.0,
    ) -> None:
        self._api_key = api_key
        self.client = client
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.attribution = "Prices: Tiingo."

    def __repr__(self) -> str:
        return f"TiingoProvider(url={self.url!r})"

    def _fetch(self, symbol: str, start: dt.date | None, end: dt.date | None) -> pd.DataFrame:
        params = {"startDate": (start or EARLIEST).isoformat(), "format": "json"}
        if end is not None:
            params["endDate"] = end.isoformat()
        answer = get_json(
            self.client,
            LABEL,
            f"{self.url}/tiingo/daily/{symbol}/prices",
            params=params,
            headers={"Authorization": f"Token {self._api_key.get_secret_value()}"},
            timeout=self.timeout,
        )
        if answer.status != 200:
            raise self._error(answer.status, answer.retry_after, symbol)
        rows = answer.body
        if not isinstance(rows, list) or not all(isinstance(r, dict) and "date" in r for r in rows):
            raise unreadable(LABEL)
        if not rows:
            raise NotFound(f"{LABEL} has no prices for {symbol}{date_span(start, end)}.")
        columns = {ours: [r.get(theirs) for r in rows] for ours, theirs in FIELDS.items()}
        return make_frame([r["date"] for r in rows], columns)

    def _error(self, status: int, retry_after: int | None, symbol: str) -> Exception:
        log.warning("%s answered HTTP %d for %s", LABEL, status, symbol)
        if status in (401, 403):
            return ProviderError(
                f"{LABEL} did not accept this site's API key; the site's operator should check "
                "TIINGO_API_KEY."
            )
        if status == 404:
            return NotFound(f"{LABEL} does not know the ticker {symbol}.")
        if status == 429:
            return ProviderError(
                f"{LABEL}'s request limit for this site is used up; try again later.",
                retry_after=retry_after,
            )
        return failed(LABEL, status)
