"""The pool pings a connection only after it sat idle; a dead one is replaced before use."""

import time

import psycopg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from saas.core.db import Database
from saas.core.tenancy.binding import DriverStatement


@pytest.fixture
def make_database(settings):
    made = []

    def make(ping_after_idle_ms: int) -> Database:
        from dataclasses import replace

        database = Database()
        database.configure(replace(settings, db_pool_size=1, db_ping_after_idle_ms=ping_after_idle_ms))
        made.append(database)
        return database

    yield make
    for database in made:
        database.dispose()


def _backend_pid(database: Database) -> int:
    with database.engine.connect() as connection:
        return connection.execute(text("SELECT pg_backend_pid()")).scalar()


def _terminate(settings, pid: int) -> None:
    """End a server process from outside the pool (as a database restart would)."""
    url = settings.database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]
    time.sleep(0.1)  # the server process ends


def test_an_idle_connection_that_died_is_replaced_before_use(make_database, settings):
    database = make_database(ping_after_idle_ms=50)
    dead = _backend_pid(database)
    _terminate(settings, dead)
    time.sleep(0.1)  # idle past 50 ms: the next checkout pings, finds it dead, replaces it
    assert _backend_pid(database) != dead


def test_a_connection_used_moments_ago_is_not_pinged(make_database, settings):
    """Inside the window the dead connection is handed out: the statement fails once, and the
    pool is discarded, so the next one gets a live connection."""
    database = make_database(ping_after_idle_ms=60_000)
    dead = _backend_pid(database)
    _terminate(settings, dead)
    with pytest.raises(OperationalError):
        _backend_pid(database)
    assert _backend_pid(database) != dead


def test_a_lost_connection_under_a_driver_statement_fails_once_and_is_replaced(make_database, settings):
    database = make_database(ping_after_idle_ms=60_000)
    statement = DriverStatement(select(func.pg_backend_pid()))
    with database.engine.connect() as connection:
        dead = statement.first(connection, {})[0]
    _terminate(settings, dead)
    with database.engine.connect() as connection, pytest.raises(OperationalError) as raised:
        statement.first(connection, {})
    assert raised.value.connection_invalidated
    with database.engine.connect() as connection:
        assert statement.first(connection, {})[0] != dead
