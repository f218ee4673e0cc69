"""Migrations of one tenant schema. Run through `saas.schema.tenant`, which passes the
connection (inside a transaction whose search_path is the tenant's schema, set LOCAL) in
`config.attributes["connection"]`. Scripts use unqualified names; the version row lives in
the tenant's own `alembic_version` table."""

from alembic import context

from migrations.metadata import tenant_metadata

config = context.config
context.configure(
    connection=config.attributes["connection"],
    target_metadata=tenant_metadata(),
    transaction_per_migration=False,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
