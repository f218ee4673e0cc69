"""The database: an engine per app or process, sessions per unit of work, declarative bases
for both planes.

Control-plane tables carry the explicit schema `control`. Tenant tables are declared with
no schema and bound to `t_<slug>` per unit of work by `saas.core.tenancy.binding`.

Who owns an engine: each app its own (`init_app` keeps it in `app.extensions`), so several
apps in one process never share or replace each other's; a process without an app (a
worker, whose jobs it forks) gets one at its start from its settings (`configure`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from flask import current_app, has_app_context
from sqlalchemy import DateTime, MetaData, create_engine, event, exc, func
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column

from saas.core import clock

if TYPE_CHECKING:
    from flask import Flask

    from saas.core.settings import Settings

CONTROL_SCHEMA = "control"

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class ControlBase(DeclarativeBase):
    metadata = MetaData(schema=CONTROL_SCHEMA, naming_convention=NAMING_CONVENTION)


def stamped(*, on_update: bool = False) -> Any:
    """A `timestamptz` column set from the platform clock (`saas.core.clock`) when SQLAlchemy writes
    the row, `on_update` again at every update; the database's `now()` for raw SQL."""
    return mapped_column(
        DateTime(timezone=True),
        default=clock.now,
        server_default=func.now(),
        onupdate=clock.now if on_update else None,
    )


def sqlalchemy_url(url: str) -> str:
    """Accept libpq-style URLs (postgres://, postgresql://) and use the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in {"postgres", "postgresql"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


_RETURNED_AT = "chamyeo.returned_at"  # when the pool got the connection back (record.info)


def install_ping_after_idle(engine: Engine, idle_seconds: float) -> None:
    """Ping a pooled connection on checkout if it sat in the pool for `idle_seconds` or more;
    one that fails is replaced before the caller gets it.

    A ping on every checkout (`pool_pre_ping`) was a round trip in every request. A connection
    returned moments ago is alive unless the server went away in between; then the statement
    fails once, and SQLAlchemy invalidates the whole pool (HikariCP makes the same trade with
    its `aliveBypassWindowMs`)."""

    @event.listens_for(engine, "checkin")
    def _stamp(dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        returned = record.info.get(_RETURNED_AT)  # None: a fresh connection
        if returned is None or time.monotonic() - returned < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool discards this connection and checks out another.
            raise exc.DisconnectionError("a pooled connection did not answer its ping") from error


EXTENSION_KEY = "chamyeo.db"


class Database:
    """An engine and what opens sessions on it. The extension (`saas.core.extensions.db`) is
    created unbound at import: `init_app` gives each app a `Database` of its own, and
    `engine` is the engine of the app in whose context it is read, else the process's."""

    def __init__(self) -> None:
        self._engine: Engine | None = None
        self.settings: Settings | None = None

    def configure(self, settings: Settings) -> None:
        """Build this object's engine from `settings` (no connection is opened)."""
        self.settings = settings
        self.use(build_engine(settings))

    def use(self, engine: Engine | None) -> None:
        """Make `engine` this object's (a process's engine built elsewhere: the tests')."""
        self._engine = engine

    @staticmethod
    def describe(url: str | None) -> str:
        """The URL without its password, for printing."""
        return make_url(url).render_as_string(hide_password=True) if url else "(none)"

    def init_app(self, app: Flask) -> None:
        """Give `app` an engine of its own, built from its settings."""
        from saas.core.settings import APP_CONFIG_KEY

        own = Database()
        own.configure(app.config[APP_CONFIG_KEY])
        app.extensions[EXTENSION_KEY] = own

    def _owner(self) -> Database:
        """The app's database in an app context (when the app has one), else this one."""
        if has_app_context():
            own = current_app.extensions.get(EXTENSION_KEY)
            if own is not None:
                return own
        return self

    @property
    def engine(self) -> Engine:
        engine = self._owner()._engine
        if engine is None:
            raise RuntimeError("the database is not configured")
        return engine

    @contextmanager
    def control_session(self) -> Iterator[Session]:
        """A session for control-plane work only: tenant tables resolve to no schema."""
        from saas.core.tenancy import binding

        with binding.session_without_tenant(self.engine) as session:
            yield session

    def dispose(self, app: Flask | None = None) -> None:
        """Close the pooled connections of `app`'s engine, or of this object's."""
        owner = app.extensions.get(EXTENSION_KEY, self) if app is not None else self
        if owner._engine is not None:
            owner._engine.dispose()


def build_engine(settings: Settings) -> Engine:
    """An engine on `settings.database_url` with the platform's pool, ping and recycling
    (no connection is opened)."""
    if settings.database_url is None:
        raise RuntimeError("settings.database_url is unset: start the embedded server first")
    engine = create_engine(
        sqlalchemy_url(settings.database_url),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_recycle=3600,
    )
    install_ping_after_idle(engine, settings.db_ping_after_idle_ms / 1000)
    from saas.core.tenancy import binding

    binding.install_connection_recycling(engine, settings.tenants_per_connection)
    return engine
