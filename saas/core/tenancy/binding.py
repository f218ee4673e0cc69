# The only module that touches `schema_translate_map` or quotes a schema name into SQL (slugs.py
# validates the names): everything else calls the functions below.
"""Binding tenant tables to one tenant's schema: the only module that does it.

Tenant tables are declared without a schema. A unit of work for tenant `slug` gets a
Session whose engine carries `schema_translate_map={None: "t_<slug>"}`: every statement is
rendered with the schema name at execution time, so nothing is left on the connection for
the next unit of work to inherit. Sessions-level `SET search_path` is never used (it leaks
through pooled connections and poolers); migrations set it with `SET LOCAL`, which ends
with their transaction.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import event, exc, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

from saas.core.tenancy.slugs import schema_for

# Tenant tables used outside any tenant's unit of work resolve to this schema, which never
# exists: a forgotten binding fails loudly instead of reading someone's data.
UNBOUND_SCHEMA = "tenant_unbound"
_SCHEMAS_SEEN = "chamyeo.schemas_seen"
# Quoting needs no connection: PostgreSQL's rules, always quoted (a name is never a keyword).
_quote = postgresql.dialect().identifier_preparer.quote_identifier


def quoted_schema(schema: str) -> str:
    """`schema` as an identifier for SQL text (for DDL and statements SQLAlchemy cannot
    translate); pass it a schema from `schema_for` or one of the platform's own."""
    return _quote(schema)


def qualified_name(schema: str, name: str) -> str:
    """`schema.name` quoted for SQL text (a table, sequence or other relation)."""
    return f"{_quote(schema)}.{_quote(name)}"


def bound_schema(connection: Connection) -> str | None:
    """The schema `connection`'s tenant tables render as (None: unbound engine)."""
    translate = connection.get_execution_options().get("schema_translate_map")
    return translate[None] if translate else None


@functools.lru_cache(maxsize=16_384)
def bound_engine(engine: Engine, schema: str) -> Engine:
    """An engine view whose schema-less tables render as `schema` (shares engine and pool).

    Kept per (engine, schema), least recently used dropped past 16,384: 10,000 tenants of one
    engine fit with room for the platform's own schemas and a second engine's busiest
    tenants; at ~590 bytes a view (31 µs to build again) a full cache holds ~9.6 MB."""
    return engine.execution_options(schema_translate_map={None: schema})


class TenantSession(Session):
    """A Session bound to one tenant schema (see `open_session`)."""


@event.listens_for(TenantSession, "after_begin")
def _track_schema(session: Session, transaction: Any, connection: Connection) -> None:
    # Registered once for the class: a per-session listener would cost more than the binding.
    schema = session.info.get("tenant_schema")
    if schema is not None:
        connection.info.setdefault(_SCHEMAS_SEEN, set()).add(schema)


def open_session(engine: Engine, slug: str | None) -> Session:
    """A Session whose tenant tables live in `t_<slug>` (or nowhere, for slug None).
    Control-plane tables (schema `control`) are reachable unchanged. The caller closes it."""
    if slug is None:
        return Session(bind=bound_engine(engine, UNBOUND_SCHEMA), expire_on_commit=False)
    schema = schema_for(slug)
    return TenantSession(
        bind=bound_engine(engine, schema),
        expire_on_commit=False,
        info={"tenant_slug": slug, "tenant_schema": schema},
    )


class DriverStatement:
    """A statement rendered to SQL once per schema binding and run straight on the driver's
    connection, for the few statements that every ballot runs: SQLAlchemy's execution layer
    (cache lookup, schema translation, parameter and result processing) cost about as much as
    the driver's own work on them. Parameters get their types' bind processing; rows come back
    as the driver's tuples, so the caller converts what needs converting (enums).

    The rendered SQL is kept per schema, the oldest dropped past `MAX_RENDERED` (12,000:
    10,000 tenants fit). Rendering costs 2-14 ms and an entry 0.7-3.8 KB (the ballot write
    is the largest), so the three statements of the platform hold at most ~75 MB when full,
    ~62 MB with every one of 10,000 tenants taking ballots and signing in through one process."""

    MAX_RENDERED = 12_000

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._rendered: dict[str | None, tuple[str, dict[str, Any], dict[str, Any]]] = {}

    def _render(self, connection: Connection) -> tuple[str, dict[str, Any], dict[str, Any]]:
        translate = connection.get_execution_options().get("schema_translate_map")
        key = bound_schema(connection)
        rendered = self._rendered.get(key)
        if rendered is None:
            dialect = connection.dialect
            # A statement (not DDL) compiles with the dialect's SQLCompiler, which names its binds.
            compiled = cast(
                SQLCompiler,
                self.statement.compile(
                    dialect=dialect, schema_translate_map=translate, render_schema_translate=bool(translate)
                ),
            )
            fixed, processors = {}, {}
            for bind, name in compiled.bind_names.items():
                if not bind.required:  # a value written into the statement (`status = 'voting'`)
                    fixed[name] = bind.effective_value
                process = bind.type.dialect_impl(dialect).bind_processor(dialect)
                if process is not None:
                    processors[name] = process
            if len(self._rendered) >= self.MAX_RENDERED:
                with contextlib.suppress(RuntimeError, StopIteration):  # another thread changed it
                    self._rendered.pop(next(iter(self._rendered)), None)  # the oldest rendering
            rendered = self._rendered[key] = (compiled.string, fixed, processors)
        return rendered

    def first(self, connection: Connection, parameters: dict[str, Any]) -> tuple[Any, ...] | None:
        """Run on `connection` (its schema binding applies) and return the first row."""
        sql, fixed, processors = self._render(connection)
        values = {**fixed, **parameters}
        for name, process in processors.items():
            values[name] = process(values[name])
        driver = connection.connection.driver_connection
        assert driver is not None  # a checked-out connection holds its driver's
        dialect = connection.dialect
        try:
            return driver.execute(sql, values).fetchone()
        except dialect.loaded_dbapi.Error as error:
            # As SQLAlchemy would: its own exception types, and a lost connection is not
            # handed out again (this one only; idle ones are pinged before use).
            lost = dialect.is_disconnect(error, driver, None)
            if lost:
                connection.invalidate(error)
            raise exc.DBAPIError.instance(
                sql, values, error, dialect.loaded_dbapi.Error, connection_invalidated=lost, dialect=dialect
            ) from error


def open_autocommit_connection(engine: Engine, slug: str | None) -> Connection:
    """A pooled connection bound like `open_session`'s, on which every statement is its own
    transaction: for a read that needs none and for a write made of one statement, it saves
    the BEGIN and COMMIT round trips. The caller closes it."""
    schema = schema_for(slug) if slug is not None else UNBOUND_SCHEMA
    connection = bound_engine(engine, schema).connect()
    if slug is not None:
        connection.info.setdefault(_SCHEMAS_SEEN, set()).add(schema)
    return connection.execution_options(isolation_level="AUTOCOMMIT")


@contextmanager
def tenant_session(engine: Engine, slug: str) -> Iterator[Session]:
    """`open_session` for a block: closed (rolled back unless committed) on exit."""
    session = open_session(engine, slug)
    try:
        yield session
    finally:
        session.close()


@contextmanager
def session_without_tenant(engine: Engine) -> Iterator[Session]:
    session = open_session(engine, None)
    try:
        yield session
    finally:
        session.close()


def install_connection_recycling(engine: Engine, tenants_per_connection: int) -> None:
    """Close a pooled connection once it has served `tenants_per_connection` schemas.

    PostgreSQL caches catalog entries per connection for every schema it touched
    (~113 KB each); without recycling a long-lived connection grows without bound.
    """

    @event.listens_for(engine, "checkout")
    def _recycle_when_too_many_schemas(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        if len(record.info.get(_SCHEMAS_SEEN, ())) >= tenants_per_connection:
            # The pool discards this connection and checks out a fresh one.
            raise exc.DisconnectionError("connection served too many tenant schemas")


def schemas_seen(connection: Connection) -> frozenset[str]:
    """The tenant schemas this pooled connection has served (for tests and diagnostics)."""
    return frozenset(connection.info.get(_SCHEMAS_SEEN, ()))


_LOCK_MODES = frozenset({"SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE"})


def lock_tenant_table(session: Session, table: Any, mode: str) -> None:
    """`LOCK TABLE` one of the session's tenant tables until its transaction ends (SQLAlchemy
    has no construct for it, and a textual statement is not schema-translated)."""
    if mode not in _LOCK_MODES:
        raise ValueError(f"unknown lock mode {mode!r}")
    qualified = qualified_name(session.info["tenant_schema"], table.name)
    session.execute(text(f"LOCK TABLE {qualified} IN {mode} MODE"))


@contextmanager
def local_search_path(connection: Connection, schema: str) -> Iterator[None]:
    """For migrations only: unqualified names resolve to `schema` inside the block, within
    the caller's transaction (SET LOCAL, so nothing outlives the transaction)."""
    if not connection.in_transaction():
        raise RuntimeError("SET LOCAL outside a transaction would not hold")
    connection.execute(text(f"SET LOCAL search_path TO {quoted_schema(schema)}"))
    yield
    # On an exception the transaction is doomed and rolls back, which resets it anyway.
    connection.execute(text("SET LOCAL search_path TO DEFAULT"))
