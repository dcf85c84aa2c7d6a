"""What the web app checks in a series a client posts, before the model sees it.

The model service refuses what it cannot use with a 400 that the user reads; these rules catch,
in the web app and with a clearer sentence, what would otherwise fail inside the fit:

- a date that appears twice (an uploaded file is refused for it too; the model service fits
  repeated dates as Prophet does, and fails when every date is the same);
- dates that, with the forecast, span more than MAX_SPAN_YEARS (Prophet's time arithmetic
  overflows past about 292 years).
"""

from __future__ import annotations

import pandas as pd

from tickercast.errors import InvalidInput

MAX_SPAN_YEARS = 200


def check_posted_series(ds: pd.DatetimeIndex, periods: int) -> None:
    """Raise InvalidInput, naming the rows, for a series the web app will not forecast."""
    repeated = ds.duplicated(keep="first")
    if repeated.any():
        at = int(repeated.argmax())
        first = int((ds == ds[at]).argmax())
        raise InvalidInput(f"ds[{at}] repeats the date {ds[at]:%Y-%m-%d} of ds[{first}]")
    # Trading sessions: about 252 a year; calendar days: 365. Allow for the longer of the two.
    end = ds.max() + pd.Timedelta(days=2 * periods)
    years = (end - ds.min()).days / 365.25
    if years > MAX_SPAN_YEARS:
        raise InvalidInput(
            f"the dates and the forecast span {years:.0f} years; the longest span is "
            f"{MAX_SPAN_YEARS} years"
        )
