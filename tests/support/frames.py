"""Price frames and forecast tables as the tests compare them: a frame through compact JSON and
back (the price book's stored shape), and a forecast table as the web API's rows."""

from __future__ import annotations

import orjson
import pandas as pd

from tickercast.data.frames import frame_from_payload, frame_payload


def dumps_frame(frame: pd.DataFrame) -> bytes:
    """Compact JSON of columns: dates as days since 1970-01-01, NaN as null."""
    return orjson.dumps(frame_payload(frame), option=orjson.OPT_SERIALIZE_NUMPY)


def loads_frame(raw: bytes) -> pd.DataFrame:
    return frame_from_payload(orjson.loads(raw))
