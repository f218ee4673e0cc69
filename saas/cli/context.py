"""What CLI commands share: settings from the environment and attached servers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Engine

from saas.db import Database
from saas.services import attached_services
from saas.settings import Settings


@contextmanager
def attached_settings(*, redis: bool = False) -> Iterator[Settings]:
    with attached_services(Settings.from_env(), redis=redis) as settings:
        yield settings


@contextmanager
def database_engine() -> Iterator[Engine]:
    with attached_settings() as settings:
        database = Database()
        database.configure(settings)
        try:
            yield database.engine
        finally:
            database.dispose()
