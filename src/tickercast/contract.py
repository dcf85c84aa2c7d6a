"""The model service's wire contract, shared by the service and its clients.

A request is parsed and checked here into a `ForecastRequest`; a forecast table becomes the
response shape here (`DataFrame.to_dict()`-style: each key maps row labels to values). The rules
are those of docs/contract.md: the body is JSON whatever the Content-Type; the key is checked
before anything else; every input error says what is wrong and where.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import orjson
import pandas as pd

from tickercast.errors import InvalidFormat, InvalidInput, InvalidKey, NoKey
from tickercast.quant import calendars

# The 19 keys of every response, in the original service's order.
RESPONSE_KEYS: tuple[str, ...] = (
    "ds",
    "yhat",
    "yhat_lower",
    "yhat_upper",
    "trend",
    "trend_lower",
    "trend_upper",
    "seasonal",
    "seasonal_lower",
    "seasonal_upper",
    "seasonalities",
    "seasonalities_lower",
    "seasonalities_upper",
    "weekly",
    "weekly_lower",
    "weekly_upper",
    "yearly",
    "yearly_lower",
    "yearly_upper",
)
VALUE_KEYS = RESPONSE_KEYS[1:]
DEFAULT_PERIODS = 100
DEFAULT_INTERVAL_WIDTH = 0.8
# `levels`: central interval widths in percent, each answered as two more keys.
MAX_LEVELS = 11
LEVEL_KEY_PATTERN = r"^yhat_(lower|upper)_[0-9]+(\.[0-9]+)?$"  # e.g. yhat_lower_80, _97.5
# Dates a forecast can handle, its horizon included (pandas' nanosecond range ends in 2262).
FIRST_DATE = pd.Timestamp("1700-01-01")
LAST_DATE = pd.Timestamp("2199-12-31")
FIRST_DAY, LAST_DAY = np.datetime64(FIRST_DATE.date(), "D"), np.datetime64(LAST_DATE.date(), "D")
# The longest time from the first date of ds to the last forecast date: Prophet measures time in
# nanoseconds from the first date, which overflows at about 292 years.
LONGEST_SPAN_YEARS = 290
# `method`: "prophet" answers as the original service did; "calibrated" is the recommended one.
PROPHET, CALIBRATED = "prophet", "calibrated"
METHODS: tuple[str, ...] = (PROPHET, CALIBRATED)  # the one list of the methods' names
DEFAULT_METHOD = PROPHET  # the wire's default (a page's own is web.series.PAGE_METHOD)
# `engine`: which fit engine runs Prophet's model; absent, the fast one (model/engine.py).
ENGINES: tuple[str, ...] = ("cmdstan", "fast")
# Fewest usable rows a calibrated forecast accepts (measured: see README, forecast quality).
CALIBRATED_MIN_ROWS = 120
# POST /backtest
DEFAULT_BACKTEST_HORIZON = 20
DEFAULT_CUTOFFS = 5
MAX_CUTOFFS = 50
# The response header that names the fit engine and release of an answer, e.g. "fast/0.1.0".
MODEL_VERSION_HEADER = "X-Model-Version"


@dataclass(frozen=True)
class Limits:
    max_rows: int = 20_000
    max_periods: int = 3_650


def rows_digest(ds: pd.DatetimeIndex, y: np.ndarray) -> str:
    h = hashlib.sha256()
    h.update(ds.as_unit("ns").asi8.tobytes())
    h.update(np.ascontiguousarray(y, dtype="<f8").tobytes())
    return h.hexdigest()


@dataclass(frozen=True)
class ForecastRequest:
    """A checked request. `y` holds NaN for missing values; `freq` is never None."""

    ds: pd.DatetimeIndex
    y: np.ndarray
    periods: int
    freq: str
    include_history: bool
    interval_width: float
    method: str = DEFAULT_METHOD
    engine: str | None = None
    levels: tuple[float, ...] = ()  # increasing, in percent (`parse_levels`)

    def __post_init__(self) -> None:
        check_forecastable(self)

    @property
    def n(self) -> int:
        return len(self.ds)

    @functools.cached_property
    def future(self) -> pd.DatetimeIndex:
        """The forecast's future dates, resolved once, when the request is made (its check
        needs them), so a calendar too short is refused before anything else happens."""
        return calendars.future_dates(self.ds.max(), self.periods, self.freq)

    @functools.cached_property
    def dates(self) -> pd.DatetimeIndex:
        """The dates of the answer's rows: the history (with `include_history`), then the
        future."""
        return self.ds.append(self.future) if self.include_history else self.future

    def ahead_of(self, ds: pd.DatetimeIndex, y: np.ndarray, periods: int) -> ForecastRequest:
        """The same choices (calendar, interval width, method, engine) for other rows,
        `periods` steps after them and without history rows: a backtest's series and folds."""
        return replace(self, ds=ds, y=y, periods=periods, include_history=False)

    def series_digest(self) -> str:
        """A hash of the series alone: the fit depends on nothing else."""
        return rows_digest(self.ds, self.y)

    def digest(self) -> str:
        """A hash of everything that determines the response, the fit engine aside."""
        if not self.levels:  # the same key and bytes as before levels existed
            return self._draws_digest()
        h = hashlib.sha256(self._draws_digest().encode())
        h.update(f"|levels={','.join(map(level_name, self.levels))}".encode())
        return h.hexdigest()

    def _draws_digest(self) -> str:
        """A hash of everything that determines the response but the levels, which are read
        from the same draws."""
        h = hashlib.sha256(self.series_digest().encode())
        h.update(
            f"|{self.periods}|{self.freq}|{self.include_history}|{self.interval_width!r}".encode()
        )
        if self.method != DEFAULT_METHOD:  # absent from the original's digest: same answers
            h.update(f"|method={self.method}".encode())
        # Not the fit engine: the cache key's version tag names it, and the band's draws stay
        # the same whichever engine fits (`engine: "cmdstan"` answers as before it existed).
        return h.hexdigest()

    def seed(self) -> int:
        """The uncertainty sampling's seed: from the request, so every worker draws the same;
        not from its levels, so they are read from the very draws of the band."""
        return int(self._draws_digest()[:8], 16)


def check_forecastable(req: ForecastRequest) -> None:
    """What every engine needs of a request, checked before any engine runs, so the mock and
    Prophet refuse the same requests: two different usable dates, enough future dates, and a
    span Prophet can measure."""
    usable = req.ds[~np.isnan(req.y)]
    if len(usable) and usable.min() == usable.max():
        raise InvalidInput(
            f"every date with a value is {iso_dates(usable[:1])[0]}: a forecast needs at least "
            "two different dates"
        )
    future = req.future
    if len(future) < req.periods:
        raise InvalidInput(f"the calendar {req.freq} has only {len(future)} sessions ahead")
    first = int(req.ds.min().value)
    last = int(max(req.ds.max(), future.max()).value)
    years = (last - first) / (365.25 * 86_400 * 10**9)
    if years > LONGEST_SPAN_YEARS:
        raise InvalidInput(
            f"ds and the forecast span {years:.0f} years; the longest span is "
            f"{LONGEST_SPAN_YEARS} years"
        )


def parse_body(body: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidFormat() from None
    if not isinstance(data, dict):
        raise InvalidFormat()
    return data


def check_key(data: Mapping[str, Any], accepted: Sequence[bytes]) -> None:
    """401 without a key, 403 with a wrong one; every accepted key is compared in constant time."""
    key = data.get("key")
    if key is None:
        raise NoKey()
    if not isinstance(key, str):
        raise InvalidKey()
    given = key.encode()
    matched = False
    for candidate in accepted:
        matched |= hmac.compare_digest(given, candidate)
    if not matched:
        raise InvalidKey()


def parse_request(data: Mapping[str, Any], limits: Limits | None = None) -> ForecastRequest:
    limits = limits or Limits()
    ds_raw = _list_field(data, "ds")
    y_raw = _list_field(data, "y")
    if len(ds_raw) != len(y_raw):
        raise InvalidInput(f"ds has {len(ds_raw)} values but y has {len(y_raw)}")
    if len(ds_raw) > limits.max_rows:
        raise InvalidInput(f"{len(ds_raw)} rows is over the limit of {limits.max_rows}")
    ds = _parse_dates(ds_raw)
    y = _parse_values(y_raw)
    check_magnitudes(y)
    usable = int(np.count_nonzero(~np.isnan(y)))
    if usable < 2:
        raise InvalidInput(f"fewer than 2 usable rows (y has {usable} non-null values)")
    periods = _periods(data.get("periods", DEFAULT_PERIODS), limits.max_periods)
    if ds.max() + pd.Timedelta(days=2 * periods) > LAST_DATE:
        raise InvalidInput(f"the forecast would run past {LAST_DATE.year}")
    freq = data.get("freq")
    if freq is None:
        freq = calendars.infer_freq(ds)
    elif not isinstance(freq, str) or not calendars.is_known_freq(freq):
        raise InvalidInput(
            f"unknown freq {freq!r}; use 'D', 'B' or an exchange calendar code such as 'XNYS'"
        )
    include_history = data.get("include_history", False)
    if not isinstance(include_history, bool):
        raise InvalidInput("include_history must be true or false")
    width = data.get("interval_width", DEFAULT_INTERVAL_WIDTH)
    if isinstance(width, bool) or not isinstance(width, int | float) or not 0 < width < 1:
        raise InvalidInput("interval_width must be a number between 0 and 1")
    method = parse_method(data)
    if method == CALIBRATED and usable < CALIBRATED_MIN_ROWS:
        raise InvalidInput(
            f"the calibrated forecast needs at least {CALIBRATED_MIN_ROWS} values (y has {usable})"
        )
    engine = parse_engine(data)
    levels = parse_levels(data)
    return ForecastRequest(
        ds, y, periods, freq, include_history, float(width), method, engine, levels
    )


def parse_levels(data: Mapping[str, Any]) -> tuple[float, ...]:
    """`levels`, absent or a list of 1 to MAX_LEVELS different numbers in (0, 100), as an
    increasing tuple of floats; an error names the item that is wrong."""
    raw = data.get("levels")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise InvalidInput("levels must be a list of numbers between 0 and 100")
    if not 1 <= len(raw) <= MAX_LEVELS:
        raise InvalidInput(f"levels must hold 1 to {MAX_LEVELS} numbers (got {len(raw)})")
    seen: dict[float, int] = {}
    for i, item in enumerate(raw):
        if isinstance(item, bool) or not isinstance(item, int | float):
            raise InvalidInput(f"levels[{i}]: {repr(item)[:40]} is not a number")
        if not 0 < item < 100:  # NaN fails too; a huge integer is compared, not converted
            shown = repr(item)[:40]
            raise InvalidInput(f"levels[{i}]: {shown} is not between 0 and 100 (exclusive)")
        level = float(item)
        if level in seen:
            raise InvalidInput(f"levels[{i}]: {item!r} repeats levels[{seen[level]}] as a number")
        seen[level] = i
    return tuple(sorted(seen))


def level_name(level: float) -> str:
    """A level in its shortest form, without an exponent: `80` for 80 or 80.0, `97.5`,
    `0.00001`."""
    return np.format_float_positional(float(level), trim="-")


def level_keys(level: float) -> tuple[str, str]:
    """The response keys of a level's lower and upper edges, e.g. `yhat_lower_80`."""
    name = level_name(level)
    return f"yhat_lower_{name}", f"yhat_upper_{name}"


def answer_keys(levels: Sequence[float]) -> tuple[str, ...]:
    """Every value key of an answer: the 19's values, then each level's two in increasing
    level."""
    return VALUE_KEYS + tuple(key for level in sorted(levels) for key in level_keys(level))


def parse_method(data: Mapping[str, Any]) -> str:
    method = data.get("method", DEFAULT_METHOD)
    if method not in METHODS or not isinstance(method, str):
        accepted = " or ".join(repr(m) for m in METHODS)
        raise InvalidInput(f"unknown method {repr(method)[:40]}; use {accepted}")
    return method


def parse_engine(data: Mapping[str, Any]) -> str | None:
    engine = data.get("engine")
    if engine is not None and (not isinstance(engine, str) or engine not in ENGINES):
        accepted = " or ".join(repr(e) for e in ENGINES)
        raise InvalidInput(f"unknown engine {repr(engine)[:40]}; use {accepted}")
    return engine


@dataclass(frozen=True)
class BacktestRequest:
    """A checked POST /backtest: the series sorted by date (its `periods` is the horizon)."""

    series: ForecastRequest
    cutoffs: int

    @property
    def horizon(self) -> int:
        return self.series.periods

    def fold(self, end: int) -> ForecastRequest:
        """The forecast request of the fold with origin `end`: the rows before it, `horizon`
        steps ahead."""
        s = self.series
        return s.ahead_of(s.ds[:end], s.y[:end], s.periods)

    def digest(self) -> str:
        return hashlib.sha256(
            f"backtest|{self.series.digest()}|{self.cutoffs}".encode()
        ).hexdigest()


def least_training_rows(method: str) -> int:
    """The fewest rows a backtest fold of `method` trains on."""
    return CALIBRATED_MIN_ROWS if method == CALIBRATED else 3


def backtest_min_rows(method: str, horizon: int, cutoffs: int) -> int:
    """Rows a backtest needs: the method's least training rows, then one row per extra origin,
    then the horizon scored after the last origin."""
    return least_training_rows(method) + cutoffs - 1 + horizon


def parse_backtest_request(
    data: Mapping[str, Any], limits: Limits | None = None
) -> BacktestRequest:
    limits = limits or Limits()
    horizon = _positive(
        data.get("horizon", DEFAULT_BACKTEST_HORIZON), "horizon", limits.max_periods
    )
    cutoffs = _positive(data.get("cutoffs", DEFAULT_CUTOFFS), "cutoffs", MAX_CUTOFFS)
    req = parse_request(data, limits)
    needed = backtest_min_rows(req.method, horizon, cutoffs)
    if req.n < needed:
        raise InvalidInput(
            f"a backtest of {cutoffs} cutoffs over {horizon} steps with method "
            f"{req.method!r} needs at least {needed} rows (got {req.n})"
        )
    order = np.argsort(req.ds.asi8, kind="stable")
    return BacktestRequest(req.ahead_of(req.ds[order], req.y[order], horizon), cutoffs)


def _positive(value: Any, name: str, most: int) -> int:
    if isinstance(value, float) and value.is_integer() and abs(value) <= 2**53:
        value = int(value)  # 100.0 is an integer in JSON Schema, so the schema allows it
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(f"{name} must be a positive integer")
    if value > most:
        raise InvalidInput(f"{name} must be at most {most}")
    return value


def _list_field(data: Mapping[str, Any], name: str) -> list[Any]:
    value = data.get(name)
    if value is None:
        raise InvalidInput(f"{name} is missing")
    if not isinstance(value, list):
        raise InvalidInput(f"{name} must be a list")
    return value


_RELATIVE_DATES = {"now", "today", "yesterday", "tomorrow"}


_PLAIN_DAYS = re.compile(r"(?:\d{4}-\d{2}-\d{2}\n)*\d{4}-\d{2}-\d{2}")


def _parse_dates(raw: list[Any]) -> pd.DatetimeIndex:
    plain = _plain_days(raw)
    if plain is not None:
        return plain
    if set(map(type, raw)) - {str} or not _RELATIVE_DATES.isdisjoint(
        map(str.lower, map(str.strip, raw))
    ):
        _check_date_strings(raw)
    _refuse_control_characters(raw)
    try:
        ds = pd.DatetimeIndex(pd.to_datetime(raw, format="ISO8601"))
    except (ValueError, OverflowError):
        ds = _parse_dates_one_by_one(raw)
    if ds.tz is not None:
        ds = ds.tz_localize(None)
    missing = np.flatnonzero(ds.isna())
    if len(missing):
        i = int(missing[0])
        raise InvalidInput(f"ds[{i}] is not a date: {raw[i][:40]!r}")
    outside = np.flatnonzero((ds < FIRST_DATE) | (ds > LAST_DATE))
    if len(outside):
        i = int(outside[0])
        raise InvalidInput(f"ds[{i}] is outside the years {FIRST_DATE.year} to {LAST_DATE.year}")
    return ds.as_unit("ns")


def _plain_days(raw: list[Any]) -> pd.DatetimeIndex | None:
    """The common case read at once: every item a `YYYY-MM-DD` string of a real day within the
    years taken; None sends anything else (or any doubt) through the full reading, which says
    which item is wrong."""
    if not raw or set(map(type, raw)) != {str}:
        return None
    joined = "\n".join(raw)
    if len(joined) != 11 * len(raw) - 1 or not _PLAIN_DAYS.fullmatch(joined):
        return None
    try:
        days = np.array(raw, dtype="datetime64[D]")
    except ValueError:  # not a real day (2023-02-30): the full reading names it
        return None
    if days.min() < FIRST_DAY or days.max() > LAST_DAY:  # before nanoseconds could wrap
        return None
    return pd.DatetimeIndex(days.astype("datetime64[ns]"))


def _check_date_strings(raw: list[Any]) -> None:
    """Say which item is not a date string, or is one that pandas reads relative to the clock."""
    for i, item in enumerate(raw):
        if not isinstance(item, str):
            raise InvalidInput(f"ds[{i}] is not a date string")
        if item.strip().lower() in _RELATIVE_DATES:
            raise InvalidInput(f"ds[{i}] is not a date: {item[:40]!r}")


_CONTROL = re.compile("[\x00-\x1f\x7f]")


def _refuse_control_characters(raw: list[str]) -> None:
    """A NUL byte or another control character is never part of a date (pandas skips some)."""
    if _CONTROL.search("".join(raw)):
        i = next(i for i, item in enumerate(raw) if _CONTROL.search(item))
        raise InvalidInput(f"ds[{i}] holds a control character: {raw[i][:40]!r}")


def _parse_dates_one_by_one(raw: list[str]) -> pd.DatetimeIndex:
    """Each date on its own. One UTC offset throughout (or none) is read as local time; mixed
    offsets are refused rather than silently dropped or shifted."""
    stamps = [_parse_one_date(i, item) for i, item in enumerate(raw)]
    offsets = [stamp.strftime("%z") or "none" for stamp in stamps]
    for i, offset in enumerate(offsets):
        if offset != offsets[0]:
            raise InvalidInput(
                f"ds[{i}] has the UTC offset {offset} but ds[0] has {offsets[0]}: send every "
                "date with the same offset, or local dates without one"
            )
    return pd.DatetimeIndex([s.tz_localize(None) if s.tz is not None else s for s in stamps])


def _parse_one_date(i: int, item: str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(item)
    except (ValueError, OverflowError):
        raise InvalidInput(f"ds[{i}] is not a date: {item[:40]!r}") from None
    if stamp is pd.NaT:
        raise InvalidInput(f"ds[{i}] is not a date: {item[:40]!r}")
    return stamp


def _parse_values(raw: list[Any]) -> np.ndarray:
    """Numbers, numeric strings or null (NaN). A fast path reads the whole list at once; any
    doubt goes to the item-by-item reading, which says which item is wrong."""
    types = set(map(type, raw))
    if not types - {int, float, str, type(None)} and (str not in types or _plain_numerals(raw)):
        try:
            values = np.array(raw, dtype=float)
        except (ValueError, OverflowError):
            pass
        else:
            nonfinite = ~np.isfinite(values)
            # Every NaN must come from a null: "nan" or "inf" strings are refused one by one.
            if not nonfinite.any():
                return values
            nulls = np.array([item is None for item in raw])
            if (nonfinite == nulls).all():
                return values
    return _parse_values_one_by_one(raw)


def _plain_numerals(raw: list[Any]) -> bool:
    """Numeric strings in ASCII without `_`: Python's float() also reads "1_000" and digits of
    other scripts ("١٢"), which no price feed sends; such strings are refused."""
    text = "".join(item for item in raw if type(item) is str)
    return text.isascii() and "_" not in text


def _parse_values_one_by_one(raw: list[Any]) -> np.ndarray:
    out = np.empty(len(raw), dtype=float)
    for i, item in enumerate(raw):
        if item is None:
            out[i] = math.nan
            continue
        if isinstance(item, bool) or not isinstance(item, int | float | str):
            raise InvalidInput(f"y[{i}] is not a number")
        if isinstance(item, str) and not _plain_numerals([item]):
            raise InvalidInput(f"y[{i}] is not a plain decimal number: {item[:40]!r}")
        try:
            value = float(item)
        except (ValueError, OverflowError):
            raise InvalidInput(f"y[{i}] is not a number") from None
        if not math.isfinite(value):
            raise InvalidInput(f"y[{i}] is not a finite number")
        out[i] = value
    return out


# The largest |y| a forecast takes: squares of differences of such values, summed over every
# row, stay well inside a double (about 1.8e308); past it, the fit or the band would overflow.
MAX_ABS_Y = 1e150


def check_magnitudes(y: np.ndarray) -> None:
    """400 naming the first value whose magnitude is over MAX_ABS_Y (tiny ones are fine: they
    are answered with finite numbers)."""
    over = np.flatnonzero(np.abs(np.nan_to_num(y)) > MAX_ABS_Y)
    if len(over):
        i = int(over[0])
        raise InvalidInput(
            f"y[{i}] is {y[i]:.6g}: values larger than 1e150 in magnitude are refused "
            "(the forecast's arithmetic would overflow); send the series in larger units"
        )


def check_finite_answer(columns: Mapping[str, np.ndarray], levels: Sequence[float] = ()) -> None:
    """The last guard before a forecast is sent: a value that is not a finite number is never
    answered with a 200 (JSON would carry it as null); the request is refused instead."""
    for key in answer_keys(levels):
        if not np.isfinite(np.asarray(columns[key], dtype=float)).all():
            raise InvalidInput(
                f"the forecast's {key} is not a finite number at this series' scale; send the "
                "series in other units"
            )


def _periods(value: Any, most: int) -> int:
    return _positive(value, "periods", most)


def iso_dates(ds: pd.DatetimeIndex) -> list[str]:
    """`2018-03-14` when every timestamp is at midnight, else `2018-03-14T05:51:44`."""
    stamps = (ds.tz_localize(None) if ds.tz is not None else ds).to_numpy()
    days = stamps.astype("datetime64[D]")
    if bool((days == stamps).all()):
        return np.datetime_as_string(days).tolist()
    return [stamp.isoformat() for stamp in ds]


def encode_response(
    ds: pd.DatetimeIndex,
    columns: Mapping[str, np.ndarray],
    first_label: int,
    levels: Sequence[float] = (),
) -> bytes:
    """The response body: every key of RESPONSE_KEYS, then each level's (`answer_keys`),
    mapping row labels to values."""
    check_finite_answer(columns, levels)
    labels = [str(first_label + i) for i in range(len(ds))]
    body: dict[str, dict[str, Any]] = {"ds": dict(zip(labels, iso_dates(ds), strict=True))}
    for key in answer_keys(levels):
        values = np.asarray(columns[key], dtype=float).tolist()
        body[key] = dict(zip(labels, values, strict=True))
    return orjson.dumps(body)


# POST /batch (and POST /backtest with `series`): what an item of `series` may set for itself;
# every other field comes from the batch's shared fields.
BATCH_ITEM_FIELDS: tuple[str, ...] = ("id", "ds", "y", "periods", "freq")
BACKTEST_BATCH_ITEM_FIELDS: tuple[str, ...] = ("id", "ds", "y", "horizon", "freq")
_NOT_SHARED = ("id", "ds", "y")  # only in an item: a batch has no rows of its own


@dataclass(frozen=True)
class BatchLimits:
    max_series: int = 1_000
    max_rows: int = 1_250_000  # rows of every series together


@dataclass(frozen=True)
class BatchItem:
    """One series of a batch: its id, and the body a single request for it would send (the
    batch's shared fields, then the item's own), or why the item is refused."""

    id: str
    body: dict[str, Any]
    problem: InvalidInput | None = None


def parse_batch(
    data: Mapping[str, Any], limits: BatchLimits, item_fields: Sequence[str] = BATCH_ITEM_FIELDS
) -> list[BatchItem]:
    """The items of a batch, in order. A batch that cannot be read item by item (no `series`,
    an item without a usable id, a repeated id, over a batch limit) is a 400 as a whole; an item
    that sets a field it may not is refused alone (its `problem`)."""
    raw = _list_field(data, "series")
    if not raw:
        raise InvalidInput("series is empty")
    if len(raw) > limits.max_series:
        raise InvalidInput(f"{len(raw)} series is over the batch limit of {limits.max_series}")
    for name in _NOT_SHARED:
        if name in data:
            raise InvalidInput(f"{name} belongs in each item of series, not beside it")
    shared = {k: v for k, v in data.items() if k != "series"}
    items: list[BatchItem] = []
    seen: set[str] = set()
    rows = 0
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise InvalidInput(f"series[{i}] must be an object")
        sid = item.get("id")
        if not isinstance(sid, str) or not sid:
            raise InvalidInput(f"series[{i}].id must be a non-empty string")
        if sid in seen:
            raise InvalidInput(f"series id {sid[:40]!r} is repeated")
        seen.add(sid)
        rows += len(item["ds"]) if isinstance(item.get("ds"), list) else 0
        items.append(_batch_item(sid, shared, item, item_fields))
    if rows > limits.max_rows:
        raise InvalidInput(f"{rows} rows in all is over the batch limit of {limits.max_rows}")
    return items


def _batch_item(
    sid: str, shared: Mapping[str, Any], item: Mapping[str, Any], item_fields: Sequence[str]
) -> BatchItem:
    body = {**shared, **{k: v for k, v in item.items() if k != "id"}}
    extra = [k for k in item if k not in item_fields]
    if extra:
        allowed = ", ".join(item_fields[1:])
        problem = InvalidInput(
            f"series {sid[:40]!r} sets {extra[0][:40]!r}; an item may set only {allowed}"
        )
        return BatchItem(sid, body, problem)
    return BatchItem(sid, body)
