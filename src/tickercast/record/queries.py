"""The reads the pages and the JSON API make: from the totals the scorer keeps, never a scan
of every stored step (the list of stored forecasts reads only the forecasts it returns; groups
the scorer has not reached yet are read from their forecasts' rows; the biggest misses from
the index on each scored step's miss of its 95% band)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from sqlalchemy import Connection, Engine, Row, and_, func, literal, select

from tickercast.quant import scoring
from tickercast.record.tables import (
    forecast_steps,
    forecast_views,
    forecasts,
    group_totals,
    level_totals,
    month_totals,
    step_scores,
    step_totals,
)


def _ratio(top: float, bottom: float) -> float | None:
    if not bottom or not math.isfinite(top / bottom):
        return None
    return round(top / bottom, 6)


def _scores(row: Any) -> dict[str, Any]:
    """MASE, coverage, mean interval score and its ratio to the random walk's band's of one
    row of sums (the ratio over the steps scored with the random walk's band: all but those
    scored before it was kept)."""
    return {
        "scored": row.scored,
        "mase": _ratio(row.sum_error, row.sum_walk_error),
        "coverage": _ratio(row.inside, row.scored),
        "interval_score": _ratio(row.sum_interval_score, row.scored),
        "interval_score_ratio": _ratio(row.sum_paired_interval_score, row.sum_walk_interval_score),
    }


def _group(
    engine: Engine, ticker: str, source: str | None, kind: str | None, method: str
) -> Row[Any] | None:
    """The totals the answer is about: of `kind` when named, else live when any live forecast
    is scored, else replayed (a record with scores before one without); of the source with the
    most forecasts when none is named. A group stored but not yet scored (the scorer has not
    run since) is read from its forecasts, with nothing scored."""
    t = group_totals.c
    query = select(group_totals).where(t.ticker == ticker, t.method == method)
    if source:
        query = query.where(t.source == source)
    if kind:
        query = query.where(t.kind == kind)
    query = query.order_by(
        (t.scored > 0).desc(), (t.kind == "live").desc(), t.forecasts.desc(), t.interval_width
    )
    with engine.connect() as connection:
        return connection.execute(query.limit(1)).first() or _unscored_group(
            connection, ticker, source, kind, method
        )


def _unscored_group(
    connection: Connection, ticker: str, source: str | None, kind: str | None, method: str
) -> Row[Any] | None:
    """A group of stored forecasts the totals do not hold yet, as a row of empty totals."""
    f = forecasts.c
    count = func.count().label("forecasts")
    columns = [f[name] for name in _KEYS]
    zeros = [literal(0).label(name) for name in EMPTY_SUMS]
    query = (
        select(*columns, count, func.min(f.as_of).label("first_as_of"))
        .add_columns(func.max(f.as_of).label("last_as_of"), *zeros)
        .where(f.ticker == ticker, f.method == method)
        .group_by(*columns)
        .order_by((f.kind == "live").desc(), count.desc(), f.interval_width)
    )
    if source:
        query = query.where(f.source == source)
    if kind:
        query = query.where(f.kind == kind)
    return connection.execute(query.limit(1)).first()


EMPTY_SUMS = (
    "scored",
    "sum_error",
    "sum_walk_error",
    "inside",
    "sum_interval_score",
    "walk_scored",
    "sum_paired_interval_score",
    "sum_walk_interval_score",
    "wis_scored",
    "sum_wis",
    "sum_walk_wis",
    *(f"pit_{i}" for i in range(10)),
)


def summary(
    engine: Engine,
    ticker: str,
    method: str,
    source: str | None = None,
    kind: str | None = None,
) -> dict[str, Any] | None:
    """`GET /api/track-record/{ticker}`: the record's scores overall and by step, WIS ratio and
    PIT counts (None: no forecast of this ticker and method is stored; one stored but not yet
    scored is there with nothing scored)."""
    group = _group(engine, ticker, source, kind, method)
    if group is None:
        return None
    s = step_totals.c
    with engine.connect() as connection:
        steps = connection.execute(
            select(step_totals).where(*[s[k] == getattr(group, k) for k in _KEYS]).order_by(s.step)
        ).all()
    return {
        "ticker": group.ticker,
        "source": group.source,
        "kind": group.kind,
        "method": group.method,
        "interval_width": group.interval_width,
        "forecasts": group.forecasts,
        "first_as_of": group.first_as_of.isoformat(),
        "last_as_of": group.last_as_of.isoformat(),
        **_scores(group),
        "wis_ratio": _ratio(group.sum_wis, group.sum_walk_wis),
        "pit": [getattr(group, f"pit_{i}") for i in range(10)],
        "by_step": [{"step": row.step, **_scores(row)} for row in steps],
    }


def empty(ticker: str, method: str) -> dict[str, Any]:
    """The record of a ticker with nothing stored yet."""
    return {
        "ticker": ticker,
        "source": None,
        "kind": None,
        "method": method,
        "interval_width": None,
        "forecasts": 0,
        "first_as_of": None,
        "last_as_of": None,
        "scored": 0,
        "mase": None,
        "coverage": None,
        "interval_score": None,
        "interval_score_ratio": None,
        "wis_ratio": None,
        "pit": [0] * 10,
        "by_step": [],
    }


def calibration(engine: Engine, record: dict[str, Any]) -> list[dict[str, Any]]:
    """Per level (percent): how often the price fell inside the band, the 95% interval of that
    share from a block bootstrap over the forecasts, and the steps scored."""
    lt = level_totals.c
    with engine.connect() as connection:
        rows = connection.execute(
            select(level_totals).where(*[lt[k] == record[k] for k in _KEYS]).order_by(lt.level)
        ).all()
    return [
        {
            "level": row.level,
            "coverage": _ratio(row.inside, row.scored),
            "low": _rounded(row.low),
            "high": _rounded(row.high),
            "n": row.scored,
        }
        for row in rows
        if row.scored
    ]


def calibration_by_method(engine: Engine, kind: str | None = None) -> list[dict[str, Any]]:
    """Per kind, method and level, every ticker together: the share of prices inside the band,
    with a 95% interval joined from the groups' own (each group's spread read from its
    interval as a normal one, the groups taken as independent), and the prices scored."""
    lt = level_totals.c
    query = select(level_totals).where(lt.scored > 0)
    if kind:
        query = query.where(lt.kind == kind)
    with engine.connect() as connection:
        rows = connection.execute(query.order_by(lt.kind, lt.method, lt.level)).all()
    joined: dict[tuple[str, str, float], list[Any]] = {}
    for row in rows:
        joined.setdefault((row.kind, row.method, row.level), []).append(row)
    out = []
    for (group_kind, method, level), parts in joined.items():
        n = sum(p.scored for p in parts)
        share = sum(p.inside for p in parts) / n
        spread = math.sqrt(sum((p.scored / n * _spread(p)) ** 2 for p in parts))
        out.append(
            {
                "kind": group_kind,
                "method": method,
                "level": level,
                "coverage": round(share, 6),
                "low": round(max(0.0, share - Z95 * spread), 6),
                "high": round(min(1.0, share + Z95 * spread), 6),
                "n": n,
            }
        )
    return out


Z95 = 1.959964


def _spread(row: Any) -> float:
    """A group's standard error of its coverage, from its 95% interval (0 without one)."""
    if row.low is None or row.high is None:
        return 0.0
    return (row.high - row.low) / (2 * Z95)


def pit_by_method(engine: Engine, kind: str | None = None) -> list[dict[str, Any]]:
    """Per kind and method, every ticker together: the PIT counts."""
    t = group_totals.c
    counts = [func.sum(t[f"pit_{i}"]).label(f"pit_{i}") for i in range(10)]
    query = select(t.kind, t.method, *counts).group_by(t.kind, t.method)
    if kind:
        query = query.where(t.kind == kind)
    with engine.connect() as connection:
        rows = connection.execute(query.order_by(t.kind, t.method)).all()
    return [
        {"kind": r.kind, "method": r.method, "pit": [int(r[2 + i] or 0) for i in range(10)]}
        for r in rows
        if any(r[2 + i] for i in range(10))
    ]


def _rounded(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, 6)


def biggest_misses(
    engine: Engine, kind: str | None = None, count: int = 10
) -> list[dict[str, Any]]:
    """The stored forecasts whose price fell farthest outside their 95% band, in the band's
    half-widths (each forecast once, at its worst step), worst first."""
    s, f, fs = step_scores.c, forecasts.c, forecast_steps.c
    query = (
        select(
            s.forecast_id,
            s.miss_95,
            s.actual,
            fs.ds,
            fs.lower_95,
            fs.upper_95,
            f.ticker,
            f.source,
            f.method,
            f.kind,
            f.as_of,
        )
        .select_from(
            step_scores.join(forecasts).join(
                forecast_steps,
                and_(fs.forecast_id == s.forecast_id, fs.step == s.step),
            )
        )
        .where(s.miss_95 > 0)
        .order_by(s.miss_95.desc(), s.forecast_id)
        .limit(count * 20)
    )
    if kind:
        query = query.where(f.kind == kind)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    seen: set[int] = set()
    out = []
    for row in rows:
        if row.forecast_id in seen:
            continue
        seen.add(row.forecast_id)
        out.append(
            {
                "ticker": row.ticker,
                "source": row.source,
                "method": row.method,
                "kind": row.kind,
                "as_of": row.as_of.isoformat(),
                "ds": row.ds.isoformat(),
                "actual": row.actual,
                "lower": row.lower_95,
                "upper": row.upper_95,
                "miss": round(row.miss_95, 3),
            }
        )
    return out[:count]


_KEYS = ("ticker", "source", "kind", "method", "interval_width")


def by_month(engine: Engine, record: dict[str, Any]) -> list[dict[str, Any]]:
    """Our mean absolute error and the random walk's, and coverage, by month of as_of."""
    m = month_totals.c
    with engine.connect() as connection:
        rows = connection.execute(
            select(month_totals).where(*[m[k] == record[k] for k in _KEYS]).order_by(m.month)
        ).all()
    return [
        {
            "month": row.month.isoformat(),
            "mae": _ratio(row.sum_error, row.scored),
            "walk_mae": _ratio(row.sum_walk_error, row.scored),
            **_scores(row),
        }
        for row in rows
    ]


def regime_coverage(engine: Engine, record: dict[str, Any]) -> dict[str, float | None]:
    """The group's coverage in its calm, middle and stormy thirds of origins by trailing
    volatility at as_of, from the counts the scorer keeps in its totals (steps scored before
    the volatility was kept are left out; None for a third with nothing scored)."""
    t = group_totals.c
    columns = [
        t[f"{regime}_{count}"] for regime in scoring.REGIMES for count in ("scored", "inside")
    ]
    with engine.connect() as connection:
        row = connection.execute(
            select(*columns).where(*[t[k] == record[k] for k in _KEYS])
        ).first()
    counts = row._mapping if row is not None else {}
    return {
        regime: _ratio(counts.get(f"{regime}_inside", 0), counts.get(f"{regime}_scored", 0))
        for regime in scoring.REGIMES
    }


def _unscored_groups(connection: Connection, kind: str | None) -> list[Row[Any]]:
    """The groups of stored forecasts the totals do not hold yet, as rows of empty totals."""
    f, t = forecasts.c, group_totals.c
    columns = [f[name] for name in _KEYS]
    held = select(group_totals).where(*[t[k] == f[k] for k in _KEYS]).exists()
    query = (
        select(*columns, func.count().label("forecasts"), func.min(f.as_of).label("first_as_of"))
        .add_columns(func.max(f.as_of).label("last_as_of"))
        .add_columns(*[literal(0).label(name) for name in EMPTY_SUMS])
        .where(~held)
        .group_by(*columns)
    )
    if kind:
        query = query.where(f.kind == kind)
    return list(connection.execute(query).all())


def ranking(engine: Engine, kind: str | None = None) -> list[dict[str, Any]]:
    """Every group's scores, best MASE first (groups not scored yet last, those the scorer has
    not reached yet among them)."""
    query = select(group_totals)
    if kind:
        query = query.where(group_totals.c.kind == kind)
    with engine.connect() as connection:
        rows = [*connection.execute(query).all(), *_unscored_groups(connection, kind)]
    out = [
        {
            "ticker": r.ticker,
            "source": r.source,
            "kind": r.kind,
            "method": r.method,
            "interval_width": r.interval_width,
            "forecasts": r.forecasts,
            "first_as_of": r.first_as_of.isoformat(),
            "last_as_of": r.last_as_of.isoformat(),
            **_scores(r),
            "wis_ratio": _ratio(r.sum_wis, r.sum_walk_wis),
        }
        for r in rows
    ]
    return sorted(out, key=lambda r: (r["mase"] is None, r["mase"] or 0.0, r["ticker"]))


def coverage_by_step(engine: Engine, kind: str | None = None) -> list[dict[str, Any]]:
    """Coverage by steps ahead per method and interval width, every ticker together."""
    s = step_totals.c
    query = select(
        s.kind,
        s.method,
        s.interval_width,
        s.step,
        func.sum(s.scored).label("scored"),
        func.sum(s.inside).label("inside"),
        func.sum(s.sum_error).label("sum_error"),
        func.sum(s.sum_walk_error).label("sum_walk_error"),
        func.sum(s.sum_interval_score).label("sum_interval_score"),
        func.sum(s.sum_paired_interval_score).label("sum_paired_interval_score"),
        func.sum(s.sum_walk_interval_score).label("sum_walk_interval_score"),
    ).group_by(s.kind, s.method, s.interval_width, s.step)
    if kind:
        query = query.where(s.kind == kind)
    with engine.connect() as connection:
        rows = connection.execute(query.order_by(s.kind, s.method, s.step)).all()
    return [
        {
            "kind": r.kind,
            "method": r.method,
            "interval_width": r.interval_width,
            "step": r.step,
            **_scores(r),
        }
        for r in rows
    ]


def stored_forecasts(
    engine: Engine, record: dict[str, Any], limit: int = 50
) -> list[dict[str, Any]]:
    """`GET /api/track-record/{ticker}/forecasts`: the group's stored forecasts, newest first,
    with each step's actual price once scored (null until then)."""
    f = forecasts.c
    heads = (
        select(
            f.id,
            f.as_of,
            f.method,
            f.window,
            f.interval_width,
            f.model_version,
            forecast_views.c.first_shown,
            forecast_views.c.views,
        )
        .select_from(forecasts.outerjoin(forecast_views))
        .where(*[f[k] == record[k] for k in _KEYS])
        .order_by(f.as_of.desc(), f.id.desc())
        .limit(limit)
    )
    with engine.connect() as connection:
        found = connection.execute(heads).all()
        ids = [row.id for row in found]
        steps = connection.execute(
            select(
                forecast_steps.c.forecast_id,
                forecast_steps.c.ds,
                forecast_steps.c.yhat,
                forecast_steps.c.yhat_lower,
                forecast_steps.c.yhat_upper,
                step_scores.c.actual,
            )
            .select_from(
                forecast_steps.outerjoin(
                    step_scores,
                    and_(
                        step_scores.c.forecast_id == forecast_steps.c.forecast_id,
                        step_scores.c.step == forecast_steps.c.step,
                    ),
                )
            )
            .where(forecast_steps.c.forecast_id.in_(ids))
            .order_by(forecast_steps.c.forecast_id, forecast_steps.c.step)
        ).all()
    by_forecast: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for s in steps:
        by_forecast[s.forecast_id].append(
            {
                "ds": s.ds.isoformat(),
                "yhat": s.yhat,
                "yhat_lower": s.yhat_lower,
                "yhat_upper": s.yhat_upper,
                "actual": s.actual,
            }
        )
    return [
        {
            "as_of": row.as_of.isoformat(),
            "method": row.method,
            "window": row.window,
            "interval_width": row.interval_width,
            "model_version": row.model_version,
            "shown_first": _iso(row.first_shown),
            "views": row.views or 0,
            "steps": by_forecast[row.id],
        }
        for row in found
    ]


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def scored_steps(engine: Engine) -> int:
    """Every step scored so far (for the metrics), from the totals."""
    with engine.connect() as connection:
        return int(connection.execute(select(func.sum(group_totals.c.scored))).scalar() or 0)
