"""Storing the forecasts the site shows: one row per forecast, however often and by however
many workers it is shown; its steps once with it; its views counted in a table of their own.

"One row" is the database's doing, not this code's: the forecast's key is a unique constraint
and every insert ignores a duplicate (`ON CONFLICT DO NOTHING` on PostgreSQL and SQLite).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from tickercast.record.tables import (
    KEY_COLUMNS,
    forecast_steps,
    forecast_views,
    forecasts,
)

# live: shown by a page; replayed: `tickercast record`'s past days; nightly: every ticker of a
# universe, every night (`tickercast refresh --universe`), whoever looks at it.
KINDS = ("live", "replayed", "nightly")


@dataclass(frozen=True)
class Step:
    """One step: its centre and band, and its quantiles at the levels (percent, of `LEVELS`)
    the answer had, as (level, lower, upper); none in forecasts shown before they were kept."""

    ds: dt.date
    yhat: float
    yhat_lower: float
    yhat_upper: float
    levels: tuple[tuple[int, float, float], ...] = ()

    def row(self) -> dict[str, Any]:
        """The step's columns in `forecast_steps` (but its forecast and number)."""
        out: dict[str, Any] = {
            "ds": self.ds,
            "yhat": self.yhat,
            "yhat_lower": self.yhat_lower,
            "yhat_upper": self.yhat_upper,
        }
        for level, lower, upper in self.levels:
            out[f"lower_{level}"], out[f"upper_{level}"] = lower, upper
        return out

    def to_json(self) -> list[Any]:
        head = [self.ds.isoformat(), self.yhat, self.yhat_lower, self.yhat_upper]
        return [*head, [list(one) for one in self.levels]] if self.levels else head

    @classmethod
    def from_json(cls, data: list[Any]) -> Step:
        ds, yhat, lower, upper, *rest = data
        levels = tuple((int(k), float(lo), float(up)) for k, lo, up in rest[0]) if rest else ()
        return cls(dt.date.fromisoformat(ds), float(yhat), float(lower), float(upper), levels)


@dataclass(frozen=True)
class ShownForecast:
    """A forecast as a user saw it. `last_price` is the (adjusted) price at `as_of` it starts
    from; `views` how many times it was shown, the last time at `shown_at`."""

    ticker: str
    source: str
    kind: str
    as_of: dt.date
    method: str
    model_version: str
    interval_width: float
    last_price: float
    steps: tuple[Step, ...]
    window: str | None = None
    views: int = 1
    shown_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {self.kind!r}")
        if not self.steps:
            raise ValueError("a forecast has at least one step")

    @property
    def horizon(self) -> int:
        return len(self.steps)

    def key(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in KEY_COLUMNS)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["as_of"] = self.as_of.isoformat()
        out["shown_at"] = self.shown_at.isoformat()
        out["steps"] = [s.to_json() for s in self.steps]
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ShownForecast:
        steps = tuple(Step.from_json(one) for one in data["steps"])
        return cls(
            **{
                **data,
                "as_of": dt.date.fromisoformat(data["as_of"]),
                "shown_at": dt.datetime.fromisoformat(data["shown_at"]),
                "steps": steps,
            }
        )


def insert(connection: Connection, table: Table) -> Any:
    """An INSERT that can ignore or merge a duplicate, in the connection's dialect."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _forecast_id(connection: Connection, shown: ShownForecast) -> tuple[int, bool]:
    """The id of the forecast's row, and whether this call made it."""
    row = {name: getattr(shown, name) for name in KEY_COLUMNS}
    row.update(window=shown.window, last_price=shown.last_price, stored_at=shown.shown_at)
    statement = insert(connection, forecasts).values(row).on_conflict_do_nothing()
    made = connection.execute(statement.returning(forecasts.c.id)).scalar()
    if made is not None:
        return int(made), True
    where = [forecasts.c[name] == getattr(shown, name) for name in KEY_COLUMNS]
    return int(connection.execute(select(forecasts.c.id).where(*where)).scalar_one()), False


def _insert_steps(connection: Connection, forecast_id: int, steps: Sequence[Step]) -> None:
    """The steps' rows, those with the same columns together (a step keeps only the levels
    its answer had)."""
    batches: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for i, step in enumerate(steps, start=1):
        row = {"forecast_id": forecast_id, "step": i, **step.row()}
        batches.setdefault(tuple(row), []).append(row)
    for rows in batches.values():
        connection.execute(insert(connection, forecast_steps).on_conflict_do_nothing(), rows)


def _store_one(connection: Connection, shown: ShownForecast) -> bool:
    forecast_id, made = _forecast_id(connection, shown)
    if made:
        _insert_steps(connection, forecast_id, shown.steps)
    views = insert(connection, forecast_views).values(
        forecast_id=forecast_id,
        views=shown.views,
        first_shown=shown.shown_at,
        last_shown=shown.shown_at,
    )
    connection.execute(
        views.on_conflict_do_update(
            index_elements=[forecast_views.c.forecast_id],
            set_={
                "views": forecast_views.c.views + views.excluded.views,
                "last_shown": views.excluded.last_shown,
            },
        )
    )
    return made


def store(engine: Engine, shown: Iterable[ShownForecast]) -> int:
    """Store forecasts shown (in one transaction); how many were new to the record."""
    new = 0
    with engine.begin() as connection:
        for one in shown:
            new += _store_one(connection, one)
    return new


def merge_views(shown: Sequence[ShownForecast]) -> list[ShownForecast]:
    """The same forecasts with repeats of one key merged into one, their views added up."""
    merged: dict[tuple[object, ...], ShownForecast] = {}
    for one in shown:
        before = merged.get(one.key())
        if before is None:
            merged[one.key()] = one
            continue
        merged[one.key()] = ShownForecast(
            **{
                **{k: getattr(before, k) for k in before.__dataclass_fields__},
                "views": before.views + one.views,
                "shown_at": max(before.shown_at, one.shown_at),
            }
        )
    return list(merged.values())
