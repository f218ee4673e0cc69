"""ballot drafts, and receipt codes of ballots

Revision ID: c4d1b7e2a9f3
Revises: 6f0c2d9e4b71
Create Date: 2026-12-03 13:05:00.000000
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = 'c4d1b7e2a9f3'
down_revision = '6f0c2d9e4b71'  # re-chained after the proposals' migration (originally 091e235df09e)
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ballot_drafts',
    sa.Column('cycle_id', sa.BigInteger(), nullable=False),
    sa.Column('person_key', sa.String(length=128), nullable=False),
    sa.Column('envelope_id', sa.BigInteger(), nullable=False),
    sa.Column('choices', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('saved_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_ballot_drafts_cycle_id_cycles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['envelope_id'], ['envelopes.id'], name=op.f('fk_ballot_drafts_envelope_id_envelopes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('cycle_id', 'person_key', 'envelope_id', name=op.f('pk_ballot_drafts'))
    )
    op.add_column('ballots', sa.Column('receipt', sa.String(length=64), nullable=True))
    op.create_index('ix_ballots_receipt', 'ballots', ['receipt'], unique=True, postgresql_where=sa.text('receipt IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_ballots_receipt', table_name='ballots', postgresql_where=sa.text('receipt IS NOT NULL'))
    op.drop_column('ballots', 'receipt')
    op.drop_table('ballot_drafts')
