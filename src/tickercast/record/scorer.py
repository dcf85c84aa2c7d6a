"""Scoring every stored step whose price is now known, and the totals the pages read.

Each group of forecasts (ticker, source, kind, method, interval width) is scored in one
transaction that also rewrites its totals, so a run stopped halfway leaves every group either
done or untouched, and the next run goes on from there. A step is scored once (its score row
is keyed by forecast and step and inserted only if missing): running the scorer again changes
nothing.

Prices are read in today's adjusted basis and brought back to the forecast's own: the actual
price of a step is price(ds) × last_price ÷ price(as_of), so a split or dividend after `as_of`
is not an error.

Each step is also scored against the random walk's band from the same `as_of`, drawn by the
backtests' own rule (`band.random_walk` on the prices up to `as_of`), and keeps the trailing
volatility at `as_of` (`scoring.trailing_volatility`), from which the regimes are read: neither
looks at a price after `as_of`. At the levels a step keeps (`calibration`) it gets its weighted
interval score and the quantile random walk's (`walk.quantile_walk`, from the same prices), and
the totals get coverage by level with its interval and the PIT counts.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, Connection, Engine, and_, delete, func, insert, select

from tickercast.quant import scoring
from tickercast.quant.levels import weighted_interval_score
from tickercast.quant.walk import quantile_walk, random_walk
from tickercast.record import calibration
from tickercast.record.tables import (
    GROUP_COLUMNS,
    forecast_steps,
    forecasts,
    group_totals,
    level_totals,
    month_totals,
    step_scores,
    step_totals,
)
from tickercast.record.writes import insert as insert_or_merge

log = logging.getLogger("tickercast.record")

# The adjusted closes of a ticker from a source, by date; None when they cannot be had now.
PriceReader = Callable[[str, str], "pd.Series | None"]
Group = tuple[str, str, str, str, float]


@dataclass(frozen=True)
class ScoreRun:
    steps_scored: int
    groups_refreshed: int


def _group_where(group: Group) -> list[ColumnElement[bool]]:
    return [forecasts.c[name] == value for name, value in zip(GROUP_COLUMNS, group, strict=True)]


def _unscored(connection: Connection, group: Group, until: dt.date) -> pd.DataFrame:
    joined = forecast_steps.join(forecasts).outerjoin(
        step_scores,
        and_(
            step_scores.c.forecast_id == forecast_steps.c.forecast_id,
            step_scores.c.step == forecast_steps.c.step,
        ),
    )
    query = (
        select(*forecast_steps.c, forecasts.c.as_of, forecasts.c.last_price)
        .select_from(joined)
        .where(*_group_where(group), step_scores.c.forecast_id.is_(None))
        .where(forecast_steps.c.ds <= until)
    )
    return pd.DataFrame(connection.execute(query).mappings().all())


def _walk_wis(rows: pd.DataFrame, history: np.ndarray, interval_width: float) -> np.ndarray:
    """The quantile random walk's weighted interval score of `rows` (of one as_of), at the
    levels each row keeps (its own band's alone in older rows), in the forecasts' basis."""
    out = np.full(len(rows), np.nan)
    full = calibration.has_levels(rows)
    actual = rows["actual"].to_numpy(float)
    basis = rows["last_price"].to_numpy(float) / history[-1]
    step = rows["step"].to_numpy(dtype=int)
    for which in (True, False):
        at = full == which
        if not at.any():
            continue
        widths = calibration.widths(which, interval_width)
        walk = quantile_walk(history, int(step[at].max()), widths)
        scaled = [(lo[step[at] - 1] * basis[at], up[step[at] - 1] * basis[at]) for lo, up in walk]
        median = history[-1] * basis[at]
        out[at] = weighted_interval_score(median, scaled, widths, actual[at])
    return out


def _at_origins(
    steps: pd.DataFrame, by_day: pd.Series, interval_width: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each step: the random walk's band's interval score (from the prices up to its
    forecast's as_of, brought to the forecast's basis), the quantile random walk's weighted
    interval score at the step's levels, and the trailing volatility at as_of."""
    walk_score = np.full(len(steps), np.nan)
    walk_wis = np.full(len(steps), np.nan)
    volatility = np.full(len(steps), np.nan)
    days = by_day.index.to_numpy()
    values = by_day.to_numpy(dtype=float)
    for as_of, rows in steps.groupby("as_of"):  # `steps` numbered from 0
        at = rows.index.to_numpy()
        history = values[: np.searchsorted(days, as_of, side="right")]
        step = rows["step"].to_numpy(dtype=int)
        walk = random_walk(history, int(step.max()), interval_width)
        basis = rows["last_price"].to_numpy(float) / history[-1]
        lower, upper = walk.lower[step - 1] * basis, walk.upper[step - 1] * basis
        walk_score[at] = scoring.interval_score(
            lower, upper, rows["actual"].to_numpy(float), interval_width
        )
        walk_wis[at] = _walk_wis(rows, history, interval_width)
        volatility[at] = scoring.trailing_volatility(history)
    return walk_score, walk_wis, volatility


def score_rows(steps: pd.DataFrame, prices: pd.Series, interval_width: float) -> list[dict]:
    """The score rows of `steps` whose price and origin price are both known in `prices`."""
    if steps.empty:
        return []
    by_day = prices.copy()
    by_day.index = pd.DatetimeIndex(by_day.index).date
    by_day = by_day[~by_day.index.duplicated(keep="last")].sort_index()
    now = by_day.reindex(steps["ds"]).to_numpy(dtype=float)
    origin = by_day.reindex(steps["as_of"]).to_numpy(dtype=float)
    last = steps["last_price"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        actual = now * last / origin
    ok = np.isfinite(actual)
    if not ok.any():
        return []
    s = steps[ok].assign(actual=actual[ok]).reset_index(drop=True)
    actual = actual[ok]
    lower, upper = s["yhat_lower"].to_numpy(float), s["yhat_upper"].to_numpy(float)
    error = scoring.absolute_error(s["yhat"].to_numpy(float), actual)
    walk = scoring.random_walk_error(last[ok], actual)
    inside = scoring.inside_band(lower, upper, actual)
    interval = scoring.interval_score(lower, upper, actual, interval_width)
    walk_interval, walk_wis, volatility = _at_origins(s, by_day, interval_width)
    wis = calibration.wis(s, actual, interval_width)
    miss = calibration.miss_95(s, actual)
    return [
        {
            "forecast_id": int(f),
            "step": int(k),
            "actual": float(a),
            "error": float(e),
            "walk_error": float(w),
            "inside": bool(i),
            "interval_score": float(q),
            "walk_interval_score": _known(wq),
            "origin_volatility": _known(v),
            "wis": _known(ws),
            "walk_wis": _known(wws),
            "miss_95": _known(m),
        }
        for f, k, a, e, w, i, q, wq, v, ws, wws, m in zip(
            s["forecast_id"],
            s["step"],
            actual,
            error,
            walk,
            inside,
            interval,
            walk_interval,
            volatility,
            wis,
            walk_wis,
            miss,
            strict=True,
        )
    ]


def _known(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _sums(rows: pd.DataFrame) -> dict[str, float | int]:
    walk_scores = rows["walk_interval_score"].astype(float)
    walked = walk_scores.notna()
    return {
        "scored": len(rows),
        "sum_error": float(rows["error"].sum()),
        "sum_walk_error": float(rows["walk_error"].sum()),
        "inside": int(rows["inside"].astype(bool).sum()),
        "sum_interval_score": float(rows["interval_score"].sum()),
        "walk_scored": int(walked.sum()),
        "sum_paired_interval_score": float(rows["interval_score"].astype(float)[walked].sum()),
        "sum_walk_interval_score": float(walk_scores[walked].sum()),
    }


def regime_counts(scores: pd.DataFrame) -> dict[str, int]:
    """The steps scored and inside the band in each third of the group's origins by trailing
    volatility at as_of (steps scored before the volatility was kept are left out)."""
    known = scores[scores["origin_volatility"].notna()]
    origins = known.groupby("forecast_id")["origin_volatility"].first()
    third = pd.Series(scoring.regimes(origins.to_numpy(float)), index=origins.index)
    of_step = third.reindex(known["forecast_id"]).to_numpy()
    inside = known["inside"].astype(bool).to_numpy()
    counts = {}
    for i, regime in enumerate(scoring.REGIMES):
        counts[f"{regime}_scored"] = int((of_step == i).sum())
        counts[f"{regime}_inside"] = int(inside[of_step == i].sum())
    return counts


SCORE_COLUMNS = (
    "step",
    "error",
    "walk_error",
    "inside",
    "interval_score",
    "walk_interval_score",
    "forecast_id",
    "origin_volatility",
    "actual",
    "wis",
    "walk_wis",
)


def _group_scores(connection: Connection, group: Group) -> pd.DataFrame:
    """The group's scored steps: their scores, and the centre, band and levels stored."""
    steps = [c for c in forecast_steps.c if c.name not in ("forecast_id", "step")]
    query = (
        select(forecasts.c.as_of, *[step_scores.c[n] for n in SCORE_COLUMNS], *steps)
        .select_from(
            step_scores.join(forecasts).join(
                forecast_steps,
                and_(
                    forecast_steps.c.forecast_id == step_scores.c.forecast_id,
                    forecast_steps.c.step == step_scores.c.step,
                ),
            )
        )
        .where(*_group_where(group))
    )
    scores = pd.DataFrame(connection.execute(query).mappings().all())
    if scores.empty:
        names = ["as_of", *SCORE_COLUMNS, *[c.name for c in steps]]
        scores = pd.DataFrame(columns=names)
    return scores


def refresh_totals(connection: Connection, group: Group) -> None:
    """Rewrite the group's totals from its forecasts and scores."""
    where = _group_where(group)
    keys = dict(zip(GROUP_COLUMNS, group, strict=True))
    for table in (group_totals, step_totals, month_totals, level_totals):
        connection.execute(delete(table).where(*[table.c[k] == v for k, v in keys.items()]))
    count, first, last = connection.execute(
        select(func.count(), func.min(forecasts.c.as_of), func.max(forecasts.c.as_of)).where(*where)
    ).one()
    if not count:
        return
    scores = _group_scores(connection, group)
    total = {**keys, "forecasts": count, "first_as_of": first, "last_as_of": last}
    connection.execute(
        insert(group_totals).values(
            **total,
            **_sums(scores),
            **regime_counts(scores),
            **calibration.wis_sums(scores),
            **calibration.pit(scores),
        )
    )
    by_step = [{**keys, "step": int(k), **_sums(rows)} for k, rows in scores.groupby("step")]
    months = scores["as_of"].map(lambda d: d.replace(day=1))
    by_month = [{**keys, "month": m, **_sums(rows)} for m, rows in scores.groupby(months)]
    by_level = [{**keys, **row} for row in calibration.level_rows(scores, group[4])]
    for table, rows in ((step_totals, by_step), (month_totals, by_month), (level_totals, by_level)):
        if rows:
            connection.execute(insert(table), rows)


def _groups(connection: Connection) -> dict[Group, tuple[int, dt.date, dt.date]]:
    """Every group of stored forecasts: its count, first and last as_of."""
    columns = [forecasts.c[name] for name in GROUP_COLUMNS]
    query = select(
        *columns, func.count(), func.min(forecasts.c.as_of), func.max(forecasts.c.as_of)
    ).group_by(*columns)
    return {tuple(row[:5]): tuple(row[5:]) for row in connection.execute(query)}


def _totals_as_stored(connection: Connection) -> dict[Group, tuple[int, dt.date, dt.date]]:
    t = group_totals.c
    query = select(*[t[name] for name in GROUP_COLUMNS], t.forecasts, t.first_as_of, t.last_as_of)
    return {tuple(row[:5]): tuple(row[5:]) for row in connection.execute(query)}


def score(
    engine: Engine,
    prices: PriceReader,
    today: dt.date | None = None,
    tickers: Collection[str] | None = None,
) -> ScoreRun:
    """Score every step whose price is known by `today` (default: today), group by group;
    only the groups of `tickers` when given (a shard of `tickercast refresh --universe` scores
    its own tickers: the shards' groups never meet)."""
    until = today or dt.date.today()
    with engine.connect() as connection:
        groups = _groups(connection)
        stored = _totals_as_stored(connection)
    by_ticker: dict[tuple[str, str], list[Group]] = defaultdict(list)
    for group in groups:
        if tickers is None or group[0] in tickers:
            by_ticker[group[0], group[1]].append(group)
    scored = refreshed = 0
    for (ticker, source), ticker_groups in sorted(by_ticker.items()):
        series: pd.Series | None = None
        for group in sorted(ticker_groups):
            with engine.begin() as connection:
                steps = _unscored(connection, group, until)
                rows: list[dict] = []
                if not steps.empty:
                    if series is None:
                        series = prices(ticker, source)
                    if series is None:
                        log.warning("record: no prices for %s from %s to score", ticker, source)
                    else:
                        rows = score_rows(steps, series, group[4])
                if rows:
                    statement = insert_or_merge(connection, step_scores).on_conflict_do_nothing()
                    connection.execute(statement, rows)
                if rows or stored.get(group) != groups[group]:
                    refresh_totals(connection, group)
                    refreshed += 1
            scored += len(rows)
    return ScoreRun(scored, refreshed)
