"""Running both migration tracks, capturing the tenant head and replaying it.

A new tenant's schema is built by replaying the statements that one real run of the tenant
migrations executed (captured once per head revision), not by replaying the migration
history per tenant, cloning a schema from the catalog or calling pg_dump.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection, Engine

from migrations import CONTROL_DIR, TENANT_DIR
from migrations.heads import TenantHead
from saas.core.tenancy.binding import local_search_path, qualified_name, quoted_schema
from saas.core.tenancy.slugs import schema_for

# A scratch schema that exists only inside a rolled-back transaction.
HEAD_BUILD_SCHEMA = "tenant_head_build"
_HEAD_LOCK_KEY = 0x6865_6164  # "head"
Statements = list[tuple[str, Any]]


def alembic_config(directory: Any, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(directory))
    config.attributes["connection"] = connection
    return config


@functools.cache
def _scripts(directory: str) -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(directory))


def tenant_head_revision(script_location: Any = TENANT_DIR) -> str:
    head = _scripts(str(script_location)).get_current_head()
    if head is None:
        raise RuntimeError("the tenant migration track has no revisions")
    return head


def upgrade_control(engine: Engine, target: str = "head") -> None:
    with engine.begin() as connection:
        command.upgrade(alembic_config(CONTROL_DIR, connection), target)


def control_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        exists = connection.scalar(text("SELECT to_regclass('control.alembic_version')"))
        if exists is None:
            return None
        return connection.scalar(text("SELECT version_num FROM control.alembic_version"))


def migrate_schema_in_transaction(
    connection: Connection, schema: str, target: str = "head", *, script_location: Any = TENANT_DIR
) -> None:
    """Run the tenant migrations on `schema` inside the caller's transaction.

    Unlike `alembic upgrade`, this neither re-reads the scripts nor re-runs env.py for every
    schema: one ScriptDirectory per process and a bare MigrationContext per schema. Across a
    fleet that per-tenant set-up would cost more than an additive migration itself."""
    scripts = _scripts(str(script_location))

    def upgrade_steps(current: Any, _context: MigrationContext) -> Any:
        # What `alembic upgrade` computes (a private but long-stable ScriptDirectory method).
        return scripts._upgrade_revs(target, current)

    with local_search_path(connection, schema):
        context = MigrationContext.configure(
            connection, opts={"script": scripts, "fn": upgrade_steps, "transaction_per_migration": False}
        )
        with Operations.context(context):
            context.run_migrations()


def migrate_schema_via_env_py(connection: Connection, schema: str, target: str = "head") -> None:
    """The plain `alembic upgrade` path (env.py and script scan per call): the benchmarks'
    naive baseline."""
    with local_search_path(connection, schema):
        command.upgrade(alembic_config(TENANT_DIR, connection), target)


def _capture(connection: Connection, run: Callable[[], None]) -> Statements:
    captured: Statements = []

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb not in {"SELECT", "SET", "SHOW"}:
            captured.append((statement, parameters or None))

    event.listen(connection, "before_cursor_execute", before_cursor_execute)
    try:
        run()
    finally:
        event.remove(connection, "before_cursor_execute", before_cursor_execute)
    return captured


def capture_tenant_head(engine: Engine) -> Statements:
    """Migrate a scratch schema from empty to head, recording every statement, then roll back."""
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _HEAD_LOCK_KEY})
            connection.execute(text(f"CREATE SCHEMA {quoted_schema(HEAD_BUILD_SCHEMA)}"))
            return _capture(connection, lambda: migrate_schema_in_transaction(connection, HEAD_BUILD_SCHEMA))
        finally:
            transaction.rollback()


_head_cache: dict[tuple[str, str], Statements] = {}


def head_statements(engine: Engine) -> tuple[str, Statements]:
    """The current head revision and its captured DDL (captured and stored on first use)."""
    revision = tenant_head_revision()
    key = (engine.url.render_as_string(hide_password=True), revision)
    if key in _head_cache:
        return revision, _head_cache[key]
    with engine.begin() as connection:
        stored = connection.scalar(select(TenantHead.statements).where(TenantHead.revision == revision))
    if stored is None:
        statements = capture_tenant_head(engine)
        with engine.begin() as connection:
            connection.execute(
                insert(TenantHead)
                .values(revision=revision, statements=[list(s) for s in statements])
                .on_conflict_do_nothing()
            )
    else:
        statements = [(sql, params) for sql, params in stored]
    _head_cache[key] = statements
    return revision, statements


def create_tenant_schema_in_transaction(connection: Connection, slug: str, statements: Statements) -> None:
    """Create `t_<slug>` and replay the head DDL into it, in the caller's transaction.

    The schema and its tables are created by separate statements (Citus distributes a
    schema's tables as they are created)."""
    schema = schema_for(slug)
    connection.execute(text(f"CREATE SCHEMA {quoted_schema(schema)}"))
    with local_search_path(connection, schema):
        for sql, params in statements:
            if params:
                connection.exec_driver_sql(sql, params)
            else:
                connection.exec_driver_sql(sql)


def drop_tenant_schema_irreversibly(connection: Connection, slug: str) -> None:
    connection.execute(text(f"DROP SCHEMA IF EXISTS {quoted_schema(schema_for(slug))} CASCADE"))


def schema_revision(connection: Connection, slug: str) -> str | None:
    table = qualified_name(schema_for(slug), "alembic_version")
    exists = connection.scalar(text("SELECT to_regclass(:t)"), {"t": table})
    if exists is None:
        return None
    return connection.scalar(text(f"SELECT version_num FROM {table}"))
