"""The reads the pages and the JSON API make: from the totals the scorer keeps, never a scan
of every stored step (the list of stored forecasts reads only the forecasts it returns)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from sqlalchemy import Engine, Row, and_, func, select

from tickercast.quant import scoring
from tickercast.record.tables import (
    forecast_steps,
    forecast_views,
    forecasts,
    group_totals,
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
    most forecasts when none is named."""
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
        return connection.execute(query.limit(1)).first()


def summary(
    engine: Engine,
    ticker: str,
    method: str,
    source: str | None = None,
    kind: str | None = None,
) -> dict[str, Any] | None:
    """`GET /api/track-record/{ticker}`: the record's scores overall and by step (None: no
    forecast of this ticker and method has reached the totals yet: the scorer puts it there)."""
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
        "by_step": [{"step": row.step, **_scores(row)} for row in steps],
    }


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


def ranking(engine: Engine, kind: str | None = None) -> list[dict[str, Any]]:
    """Every group's scores, best MASE first (groups not scored yet last)."""
    query = select(group_totals)
    if kind:
        query = query.where(group_totals.c.kind == kind)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
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
