"""Nothing lost, nothing blocked, through the web app: two workers sharing Redis serve
forecasts while the record's PostgreSQL is stopped and started again, and one worker is
replaced meanwhile; in the end every forecast shown is stored once, with every view."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tests.support.postgres_server import PostgresServer, postgres_server
from tests.web.conftest import MakeClient
from tickercast.record import db
from tickercast.record.tables import forecast_views, forecasts


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        yield server


def test_forecasts_shown_while_the_database_is_down_are_all_kept_once(
    make_client: MakeClient, own_postgres: PostgresServer, redis_url: str
) -> None:
    url = own_postgres.create_database("record")
    engine = db.make_engine(url)
    db.upgrade(engine)
    first, second = (make_client(database_url=url, redis_url=redis_url) for _ in range(2))
    shown: Counter[int] = Counter()

    def views(*workers: object, rounds: int = 3) -> None:
        for _ in range(rounds):
            for worker in workers:
                for periods in (5, 10, 20):
                    resp = worker.get(f"/api/forecast/ACME?periods={periods}")  # type: ignore[attr-defined]
                    assert resp.status_code == 200
                    shown[periods] += 1

    views(first, second)
    own_postgres.stop("immediate")
    views(first, second)
    down = second.get("/api/track-record/ACME")
    assert down.status_code == 503  # the record says so; the forecasts above were served
    first.__exit__(None, None, None)  # a worker replaced while the database is down
    own_postgres.start()
    views(second)
    second.__exit__(None, None, None)
    query = (
        select(forecasts.c.horizon, forecast_views.c.views)
        .select_from(forecasts.join(forecast_views))
        .order_by(forecasts.c.horizon)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    engine.dispose()
    assert [(h, v) for h, v in rows] == sorted(shown.items())
