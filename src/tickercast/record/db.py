"""One engine per process, made from `DATABASE_URL`, and the migrations that shape it.

PostgreSQL in production; a SQLite file is the default so a first run needs nothing. An
embedded SQLite file has nobody else to migrate it, so `open_engine` brings it up to date
itself; PostgreSQL is migrated by `tickercast db upgrade` (the release phase, a Job).
"""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

CONNECT_TIMEOUT = 3  # seconds: a database that is down must not hold a page for long
MIGRATIONS = "tickercast.record:migrations"


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _sqlite_pragmas(dbapi_connection: Any, record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not wait for the writer
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for `url` (postgresql://, or Heroku's postgres://, driven by psycopg 3);
    nothing is connected yet."""
    parsed = make_url(url)
    if parsed.get_backend_name() in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
        engine = create_engine(
            parsed,
            pool_pre_ping=True,
            pool_size=4,
            max_overflow=4,
            pool_timeout=CONNECT_TIMEOUT,
            connect_args={"connect_timeout": CONNECT_TIMEOUT},
        )
        return engine
    engine = create_engine(parsed, connect_args={"timeout": 30})
    if is_sqlite(engine):
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database to `revision` (default: the newest)."""
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the database back to `revision`."""
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def revision(engine: Engine) -> str | None:
    """The revision the database is at (None: never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def open_engine(url: str) -> Engine:
    """The process's engine; a SQLite file is migrated on the spot."""
    engine = make_engine(url)
    if is_sqlite(engine):
        upgrade(engine)
    return engine
