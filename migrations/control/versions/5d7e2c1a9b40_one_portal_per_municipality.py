"""one portal per municipality: a unique region per tenant, one subsidy beneficiary per
program and municipality

A database that already holds two tenants of one region is not changed: the upgrade stops
and names them, since only a person can tell which portal the municipality keeps (delete the
other with `chamyeo tenants delete`). Subsidy beneficiaries are filled from the reservations
already in the ledger: the first tenant reserved for in a program is the one it pays.

Revision ID: 5d7e2c1a9b40
Revises: a44c7fc70e49
Create Date: 2026-12-02 18:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "5d7e2c1a9b40"
down_revision = "a44c7fc70e49"
branch_labels = None
depends_on = None


def upgrade() -> None:
    duplicates = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT region_code, string_agg(slug, ', ' ORDER BY id) FROM control.tenants "
                "GROUP BY region_code HAVING count(*) > 1 ORDER BY region_code"
            )
        )
        .all()
    )
    if duplicates:
        listed = "; ".join(f"region {region}: {slugs}" for region, slugs in duplicates)
        raise RuntimeError(
            "one municipality has one portal, but these regions have several: "
            f"{listed}. Keep one portal per region (chamyeo tenants delete SLUG), then upgrade again."
        )
    op.create_index("uq_tenants_region_code", "tenants", ["region_code"], unique=True, schema="control")
    op.create_table(
        "subsidy_beneficiaries",
        sa.Column("program_id", sa.BigInteger(), nullable=False),
        sa.Column("region_code", sa.String(length=10), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["control.subsidy_programs.id"],
            name=op.f("fk_subsidy_beneficiaries_program_id_subsidy_programs"),
        ),
        sa.PrimaryKeyConstraint("program_id", "region_code", name=op.f("pk_subsidy_beneficiaries")),
        schema="control",
    )
    op.create_index(
        op.f("ix_subsidy_beneficiaries_tenant_id"),
        "subsidy_beneficiaries",
        ["tenant_id"],
        unique=False,
        schema="control",
    )
    op.execute(
        "INSERT INTO control.subsidy_beneficiaries (program_id, region_code, tenant_id) "
        "SELECT DISTINCT ON (e.program_id, t.region_code) e.program_id, t.region_code, e.tenant_id "
        "FROM control.ledger_entries e JOIN control.tenants t ON t.id = e.tenant_id "
        "WHERE e.kind = 'reservation' ORDER BY e.program_id, t.region_code, e.id "
        "ON CONFLICT DO NOTHING"
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_subsidy_beneficiaries_tenant_id"), table_name="subsidy_beneficiaries", schema="control"
    )
    op.drop_table("subsidy_beneficiaries", schema="control")
    op.drop_index("uq_tenants_region_code", table_name="tenants", schema="control")
