"""Differences between the models and what the migrations build (for `chamyeo db check`)."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Engine

from migrations import CONTROL_DIR, TENANT_DIR
from migrations.metadata import control_metadata, tenant_metadata
from migrations.runner import (
    HEAD_BUILD_SCHEMA,
    alembic_config,
    migrate_schema_in_transaction,
)
from saas.core.db import CONTROL_SCHEMA
from saas.core.tenancy.binding import local_search_path, quoted_schema
from tenants.proposals.search import TRIGRAM_INDEXES


def _only_schema(schema: str | None):
    def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
        return name == schema if type_ == "schema" else True

    return include_name


def control_drift(engine: Engine) -> list[Any]:
    """Model changes that no control migration makes (the database must be at head)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "include_schemas": True,
                "include_name": _only_schema(CONTROL_SCHEMA),
                "version_table_schema": CONTROL_SCHEMA,
                "compare_type": True,
            },
        )
        return list(compare_metadata(context, control_metadata()))


def _not_an_optional_index(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    # The trigram index exists only where the database has pg_trgm, so no model declares
    # it (tenant migration 6f0c2d9e4b71): neither their presence nor their absence is drift.
    return not (type_ == "index" and name in TRIGRAM_INDEXES)


def tenant_drift(engine: Engine) -> list[Any]:
    """Migrate a scratch schema to head inside a rolled-back transaction and compare it
    with the tenant models."""
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            connection.execute(text(f"CREATE SCHEMA {quoted_schema(HEAD_BUILD_SCHEMA)}"))
            migrate_schema_in_transaction(connection, HEAD_BUILD_SCHEMA)
            with local_search_path(connection, HEAD_BUILD_SCHEMA):
                context = MigrationContext.configure(
                    connection, opts={"compare_type": True, "include_object": _not_an_optional_index}
                )
                return list(compare_metadata(context, tenant_metadata()))
        finally:
            transaction.rollback()


def write_revision(engine: Engine, track: str, message: str) -> None:
    """Autogenerate a new migration for `track` ("control" or "tenant") from the models."""
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            if track == "control":
                command.revision(alembic_config(CONTROL_DIR, connection), message=message, autogenerate=True)
            else:
                connection.execute(text(f"CREATE SCHEMA {quoted_schema(HEAD_BUILD_SCHEMA)}"))
                migrate_schema_in_transaction(connection, HEAD_BUILD_SCHEMA)
                with local_search_path(connection, HEAD_BUILD_SCHEMA):
                    command.revision(
                        alembic_config(TENANT_DIR, connection), message=message, autogenerate=True
                    )
        finally:
            transaction.rollback()
