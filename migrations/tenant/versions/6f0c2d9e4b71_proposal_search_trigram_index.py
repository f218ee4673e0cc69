"""proposal search: a trigram index on title and description

Revision ID: 6f0c2d9e4b71
Revises: 091e235df09e
Create Date: 2026-12-10 10:00:00

A GIN trigram index on `title || ' ' || description` serves `ILIKE '%term%'` on that same
expression (tenants/proposals/search.py: one index scan per term). pg_trgm is created once per database by the control migration
b3e1f7a2c9d4, where the server has it; without it (the embedded development server ships no
contrib extensions) there is nothing to build and search scans, which stays correct.

The tenant migrations run with the search_path set to the tenant schema alone, so the
operator class is named with the schema the extension lives in. The lookup is a SELECT, which
the captured head does not record: the head captured on a database holds the index
exactly when that database has pg_trgm.
"""

from alembic import op
import sqlalchemy as sa

from saas.core.tenancy.binding import quoted_schema

revision = "6f0c2d9e4b71"
down_revision = "091e235df09e"
branch_labels = None
depends_on = None

INDEX = "ix_proposals_text_trgm"


def _trigram_schema() -> str | None:
    return op.get_bind().scalar(
        sa.text(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
            " WHERE e.extname = 'pg_trgm'"
        )
    )


def upgrade() -> None:
    schema = _trigram_schema()
    if schema is None:
        return
    op.execute(
        f"CREATE INDEX {INDEX} ON proposals"
        f" USING gin ((title || ' ' || description) {quoted_schema(schema)}.gin_trgm_ops)"
    )


def downgrade() -> None:
    op.execute(f"DROP INDEX IF EXISTS {INDEX}")
