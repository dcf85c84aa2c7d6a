"""The track record's tables (SQLAlchemy Core), as the newest migration leaves them.

    forecasts        one row per forecast shown, never changed: its key (ticker, source, kind,
                     as_of, method, model version, interval width, horizon) is unique, so the
                     database itself keeps one row however many workers store it at once
    forecast_steps   each step's date, centre and band, in the forecast's own price basis, and
                     its quantiles at each level of `LEVELS` (`lower_L`, `upper_L`: the 50 - L/2
                     and 50 + L/2 percent quantiles; null in rows stored before revision 0004)
    forecast_views   how often and when a forecast was shown
    step_scores      each step scored once its price is known (in the forecast's basis), with
                     the random walk's band's interval score from the same as_of and the
                     trailing volatility at as_of (both from prices up to as_of only; null in
                     rows scored before revision 0003); the weighted interval score over the
                     levels the step has, the quantile random walk's over the same levels, and
                     how far outside its 95% band the price fell, in half-widths (revision 0004)
    group_totals     per group (ticker, source, kind, method, interval width): forecasts, first
    step_totals      and last as_of, and the sums the scores add up to, overall, by step and by
    month_totals     month of as_of; kept current by the scorer, so pages never scan scores
    level_totals     per group and level: the steps scored, those inside and the 95% interval
                     of the coverage from a bootstrap over the group's forecasts

`last_price` is the adjusted close at `as_of` in the prices the forecast was made from: a split
or dividend after `as_of` rescales adjusted prices, and the scorer brings the prices it reads
back to this basis (actual × last_price ÷ today's adjusted close at `as_of`).

The interval score ratio is taken over the steps that have the random walk's score:
`walk_scored` counts them, `sum_paired_interval_score` adds our interval score on those steps
only, `sum_walk_interval_score` the random walk's.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

from tickercast.quant import scoring

metadata = MetaData()

# The levels (central intervals, in percent) each forecast keeps beside its own band.
LEVELS = (10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 98)


def level_columns() -> list[Column[object]]:
    """`lower_L` and `upper_L` for each level L of `LEVELS`."""
    return [Column(f"{side}_{level}", Float) for level in LEVELS for side in ("lower", "upper")]


def pit_columns() -> list[Column[object]]:
    """The group's PIT counts: how many prices fell in each tenth of the forecasts' deciles."""
    return [Column(f"pit_{i}", Integer, nullable=False, server_default="0") for i in range(10)]


# The columns that name one group of forecasts whose scores are added up together.
GROUP_COLUMNS = ("ticker", "source", "kind", "method", "interval_width")


def _group_columns() -> list[Column[object]]:
    return [
        Column("ticker", String(32), primary_key=True),
        Column("source", String(32), primary_key=True),
        Column("kind", String(16), primary_key=True),
        Column("method", String(32), primary_key=True),
        Column("interval_width", Float, primary_key=True),
    ]


def _sums() -> list[Column[object]]:
    return [
        Column("scored", Integer, nullable=False),
        Column("sum_error", Float, nullable=False),
        Column("sum_walk_error", Float, nullable=False),
        Column("inside", Integer, nullable=False),
        Column("sum_interval_score", Float, nullable=False),
        Column("walk_scored", Integer, nullable=False, server_default="0"),
        Column("sum_paired_interval_score", Float, nullable=False, server_default="0"),
        Column("sum_walk_interval_score", Float, nullable=False, server_default="0"),
    ]


def regime_columns() -> list[Column[object]]:
    """Per calm, middle and stormy third of a group's origins (`scoring.regimes`, by trailing
    volatility at as_of): the steps scored and those inside the band."""
    return [
        Column(f"{regime}_{count}", Integer, nullable=False, server_default="0")
        for regime in scoring.REGIMES
        for count in ("scored", "inside")
    ]


# What makes a forecast one row however often it is shown.
KEY_COLUMNS = (
    "ticker",
    "source",
    "kind",
    "as_of",
    "method",
    "model_version",
    "interval_width",
    "horizon",
)

forecasts = Table(
    "forecasts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticker", String(32), nullable=False),
    Column("source", String(32), nullable=False),
    Column("kind", String(16), nullable=False),  # "live", "replayed" or "nightly" (writes.KINDS)
    Column("as_of", Date, nullable=False),
    Column("method", String(32), nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("interval_width", Float, nullable=False),
    Column("horizon", Integer, nullable=False),
    Column("window", String(16)),  # the page's chart window when it was first shown
    Column("last_price", Float, nullable=False),
    Column("stored_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint(*KEY_COLUMNS, name="forecasts_one_row_each"),
)

forecast_steps = Table(
    "forecast_steps",
    metadata,
    Column("forecast_id", ForeignKey("forecasts.id"), primary_key=True),
    Column("step", Integer, primary_key=True),  # 1 is the first session after as_of
    Column("ds", Date, nullable=False, index=True),
    Column("yhat", Float, nullable=False),
    Column("yhat_lower", Float, nullable=False),
    Column("yhat_upper", Float, nullable=False),
    *level_columns(),
)

forecast_views = Table(
    "forecast_views",
    metadata,
    Column("forecast_id", ForeignKey("forecasts.id"), primary_key=True),
    Column("views", Integer, nullable=False),
    Column("first_shown", DateTime(timezone=True), nullable=False),
    Column("last_shown", DateTime(timezone=True), nullable=False),
)

step_scores = Table(
    "step_scores",
    metadata,
    Column("forecast_id", ForeignKey("forecasts.id"), primary_key=True),
    Column("step", Integer, primary_key=True),
    Column("actual", Float, nullable=False),  # in the forecast's price basis
    Column("error", Float, nullable=False),
    Column("walk_error", Float, nullable=False),
    Column("inside", Boolean, nullable=False),
    Column("interval_score", Float, nullable=False),
    Column("walk_interval_score", Float),  # the random walk's band under the backtests' rule
    Column("origin_volatility", Float),  # scoring.trailing_volatility of the prices to as_of
    Column("wis", Float),  # over the levels the step has (its own band alone in older rows)
    Column("walk_wis", Float),  # the quantile random walk's, over the same levels
    Column("miss_95", Float, index=True),  # beyond the 95% band in its half-widths, 0 inside
)

group_totals = Table(
    "group_totals",
    metadata,
    *_group_columns(),
    Column("forecasts", Integer, nullable=False),
    Column("first_as_of", Date, nullable=False),
    Column("last_as_of", Date, nullable=False),
    *_sums(),
    *regime_columns(),  # the thirds are of all the group's origins: kept for the group only
    Column("wis_scored", Integer, nullable=False, server_default="0"),
    Column("sum_wis", Float, nullable=False, server_default="0"),
    Column("sum_walk_wis", Float, nullable=False, server_default="0"),
    *pit_columns(),
)

level_totals = Table(
    "level_totals",
    metadata,
    *_group_columns(),
    Column("level", Float, primary_key=True),  # percent
    Column("scored", Integer, nullable=False),
    Column("inside", Integer, nullable=False),
    Column("low", Float),
    Column("high", Float),
)

step_totals = Table(
    "step_totals",
    metadata,
    *_group_columns(),
    Column("step", Integer, primary_key=True),
    *_sums(),
)

month_totals = Table(
    "month_totals",
    metadata,
    *_group_columns(),
    Column("month", Date, primary_key=True),  # the first day of the month of as_of
    *_sums(),
)
