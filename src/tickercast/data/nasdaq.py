"""Daily prices from a Nasdaq Data Link table (the tables API, `/api/v3/datatables/...`).

The key travels as the `api_key` query parameter, as the API requires; it is never put in a
message, and `hide_keys_in_httpx_log` keeps it out of httpx's request log.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

import httpx
import pandas as pd
from pydantic import SecretStr

from tickercast.data.base import PRICE_COLUMNS
from tickercast.data.frames import date_span, make_frame
from tickercast.data.http import failed, get_json, unreadable
from tickercast.data.online import OnlineProvider
from tickercast.errors import NotFound, ProviderError

log = logging.getLogger(__name__)

LABEL = "Nasdaq Data Link"
# Our column -> the table's, where the names differ; a column a table lacks is left NaN.
TABLE_COLUMNS: dict[str, dict[str, str]] = {
    "WIKI/PRICES": {},
    "QUOTEMEDIA/PRICES": {},
    "SHARADAR/SEP": {"adj_close": "closeadj"},
}
MAX_PAGES = 100  # 10,000 rows a page: far more than any one ticker's daily history


class NasdaqDataLinkProvider(OnlineProvider):
    name = "nasdaq"
    label = LABEL

    def __init__(
        self,
        api_key: SecretStr,
        client: httpx.Client,
        *,
        table: str = "WIKI/PRICES",
        url: str = "https://data.nasdaq.com",
        timeout: float = 15.0,
    ) -> None:
        self._api_key = api_key
        self.client = client
        self.table = table
        self.url = f"{url.rstrip('/')}/api/v3/datatables/{table}.json"
        self.timeout = timeout
        self.attribution = f"Prices: Nasdaq Data Link, table {table}."
        renames = TABLE_COLUMNS.get(table, {})
        self._source_columns = {ours: renames.get(ours, ours) for ours in PRICE_COLUMNS}
        hide_keys_in_httpx_log()

    def __repr__(self) -> str:
        return f"NasdaqDataLinkProvider(table={self.table!r})"

    def _fetch(self, symbol: str, start: dt.date | None, end: dt.date | None) -> pd.DataFrame:
        wanted = ["ticker", "date", *dict.fromkeys(self._source_columns.values())]
        params = {"ticker": symbol, "qopts.columns": ",".join(wanted)}
        if start is not None:
            params["date.gte"] = start.isoformat()
        if end is not None:
            params["date.lte"] = end.isoformat()
        rows: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES):
            page = self._page({**params, "api_key": self._api_key.get_secret_value()}, symbol)
            rows.extend(_records(page))
            cursor = page.get("meta", {}).get("next_cursor_id")
            if not cursor:
                break
            params["qopts.cursor_id"] = str(cursor)
        else:
            raise ProviderError(f"{LABEL} sent more pages than expected for {symbol}.")
        if not rows:
            span = date_span(start, end)
            raise NotFound(f"{LABEL} has no {self.table} prices for {symbol}{span}.")
        columns = {
            ours: [r.get(theirs) for r in rows] for ours, theirs in self._source_columns.items()
        }
        return make_frame([r["date"] for r in rows], columns)

    def _page(self, params: dict[str, str], symbol: str) -> dict[str, Any]:
        answer = get_json(self.client, LABEL, self.url, params=params, timeout=self.timeout)
        body = answer.body if isinstance(answer.body, dict) else {}
        if answer.status == 200:
            if not isinstance(body.get("datatable"), dict):
                raise unreadable(LABEL)
            return body
        code = str((body.get("quandl_error") or {}).get("code", ""))
        log.warning(
            "%s answered HTTP %d (%s) for %s", LABEL, answer.status, code or "no code", symbol
        )
        if code == "QEAx01" or answer.status == 401:
            raise ProviderError(
                f"{LABEL} did not accept this site's API key; the site's operator should check "
                "NASDAQ_DATA_LINK_API_KEY."
            )
        if code.startswith("QEPx") or answer.status == 403:
            raise ProviderError(f"This site's {LABEL} key has no access to {self.table}.")
        if answer.status == 429:
            raise ProviderError(
                f"{LABEL}'s request limit for this site is used up; try again later.",
                retry_after=answer.retry_after,
            )
        if answer.status == 410:
            raise ProviderError(f"{LABEL} no longer publishes {self.table}; choose another source.")
        if answer.status == 404:
            raise NotFound(f"{LABEL} has no {self.table} prices for {symbol}.")
        raise failed(LABEL, answer.status)


def _records(page: dict[str, Any]) -> list[dict[str, Any]]:
    table = page["datatable"]
    try:
        names = [column["name"] for column in table["columns"]]
        if "date" not in names:
            raise unreadable(LABEL)
        return [dict(zip(names, row, strict=True)) for row in table["data"]]
    except (KeyError, TypeError, ValueError):
        raise unreadable(LABEL) from None


_KEY_IN_QUERY = re.compile(r"(api_key=)[^&\s\"]+")


class _HideKeys(logging.Filter):
    """Replaces `api_key=...` in httpx's "HTTP Request: GET <url>" lines with `api_key=***`."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = _hide(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                _hide(a) if isinstance(a, httpx.URL | str) else a for a in record.args
            )
        return True


def _hide(text: object) -> str:
    return _KEY_IN_QUERY.sub(r"\1***", str(text))


def hide_keys_in_httpx_log() -> None:
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, _HideKeys) for f in logger.filters):
        logger.addFilter(_HideKeys())
