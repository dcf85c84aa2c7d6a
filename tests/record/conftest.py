"""Databases for the record's tests: a PostgreSQL cluster of the run's own (started on first
use) with an empty database per test, and SQLite files in the test's folder."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.support.postgres_server import PostgresServer, postgres_server
from tickercast.record import db

_numbers = itertools.count()


@pytest.fixture(scope="session")
def _run_postgres() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        yield server


@pytest.fixture
def postgres_url(_run_postgres: PostgresServer) -> str:
    """An empty database of the run's own cluster."""
    return _run_postgres.create_database(f"record_{next(_numbers)}")


@pytest.fixture(params=["postgresql", "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each kind the record runs on."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'record.sqlite3'}"
    return str(request.getfixturevalue("postgres_url"))


def _migrated(url: str) -> Iterator[Engine]:
    made = db.make_engine(url)
    db.upgrade(made)
    yield made
    made.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated database of each kind."""
    yield from _migrated(database_url)


@pytest.fixture
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    """A migrated PostgreSQL database: for what only a server with many writers can show."""
    yield from _migrated(postgres_url)
