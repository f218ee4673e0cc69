"""Migrations of the `control` schema. Run through `saas.schema.control`, which passes the
connection in `config.attributes["connection"]`."""

from alembic import context
from sqlalchemy import text

from migrations.metadata import control_metadata
from saas.core.db import CONTROL_SCHEMA
from saas.core.tenancy.binding import quoted_schema

config = context.config
connection = config.attributes["connection"]


def include_name(name, type_, parent_names):
    if type_ == "schema":
        return name == CONTROL_SCHEMA
    return True


connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {quoted_schema(CONTROL_SCHEMA)}"))
context.configure(
    connection=connection,
    target_metadata=control_metadata(),
    include_schemas=True,
    include_name=include_name,
    version_table_schema=CONTROL_SCHEMA,
    transaction_per_migration=False,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
