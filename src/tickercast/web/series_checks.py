"""What the web app checks in a series a client posts (`POST /api/forecast`, `/api/backtest`),
before the model sees it.

The page that holds an uploaded file sends its series back as `{"name", "ds", "y", "periods"}`:
dates written YYYY-MM-DD, each once, from 1900 to 2099; as many values, each a number no larger
than 1e15 in size. The web
API accepts exactly that (its OpenAPI document says so), which is stricter than the model
service's contract: what the model would fail on inside the fit (every date the same, a span of
centuries) never reaches it, and each refusal is a 400 naming the item.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from tickercast.data.upload import FIRST_YEAR, LAST_YEAR
from tickercast.errors import InvalidInput

MAX_VALUE = 1e15  # larger values overflow the sums of squares that scores and bands need
ISO_DATE = r"^(19|20)\d\d-\d\d-\d\d$"  # the years FIRST_YEAR to LAST_YEAR
_ISO_DATE = re.compile(ISO_DATE)


def check_series_body(body: Mapping[str, Any]) -> None:
    """Raise InvalidInput, naming the item, for a body the web API does not forecast."""
    ds, y = body.get("ds"), body.get("y")
    if not isinstance(ds, list):
        raise InvalidInput("ds is missing" if ds is None else "ds must be a list")
    if not isinstance(y, list):
        raise InvalidInput("y is missing" if y is None else "y must be a list")
    seen: dict[str, int] = {}
    for i, item in enumerate(ds):
        if not isinstance(item, str) or not _is_date(item):
            shown = f": {item[:40]!r}" if isinstance(item, str) else ""
            raise InvalidInput(
                f"ds[{i}] is not a date written YYYY-MM-DD from {FIRST_YEAR} to {LAST_YEAR}{shown}"
            )
        if item in seen:
            raise InvalidInput(f"ds[{i}] repeats the date {item} of ds[{seen[item]}]")
        seen[item] = i
    for i, value in enumerate(y):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(f"y[{i}] is not a number")
        if abs(value) > MAX_VALUE:
            raise InvalidInput(f"y[{i}] is over {MAX_VALUE:g} in size")


def _is_date(text: str) -> bool:
    if not _ISO_DATE.fullmatch(text):
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True
