"""pg_trgm, once per database, where the server has it

Tenant schemas index their proposals' title and description with trigrams (tenant migration
6f0c2d9e4b71). An extension belongs to a database, not a schema, so it is created here, once,
before any tenant migration runs; the tenant migration names its operator class with the
schema the extension is in (any schema: an operator may have installed it already).

Where the server has no pg_trgm (the embedded development server ships no contrib
extensions), or the migrating role may not create it, nothing is created and proposal search
scans instead of using an index: correct, slower at thousands of proposals.

Revision ID: b3e1f7a2c9d4
Revises: 5d7e2c1a9b40
Create Date: 2026-12-10 10:00:00
"""

import logging

import sqlalchemy as sa
from alembic import op

revision = "b3e1f7a2c9d4"
down_revision = "5d7e2c1a9b40"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.scalar(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")):
        return
    if not bind.scalar(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")):
        log.warning("pg_trgm is not available on this server: proposal search will scan")
        return
    try:
        with bind.begin_nested():
            # Into `public` (which every database has unless removed on purpose), not the
            # control schema: dropping or moving control must not take tenants' indexes along.
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public"))
    except sa.exc.DBAPIError as error:  # no privilege, or no schema public
        log.warning("pg_trgm could not be created (%s): proposal search will scan", error.orig)


def downgrade() -> None:
    # The extension stays: tenant indexes depend on it, and dropping it would drop them too.
    pass
