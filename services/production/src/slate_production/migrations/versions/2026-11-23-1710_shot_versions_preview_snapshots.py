"""shot versions, preview replica snapshots

Revision ID: prodmisc01
Revises: 0005
Create Date: 2026-11-23 17:10:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = 'prodmisc01'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('entity_version',
    sa.Column('name', sa.String(length=160), nullable=False),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('entity_id', sa.UUID(), nullable=False),
    sa.Column('person_id', sa.UUID(), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['entity_id'], ['entity.id'], name=op.f('fk_entity_version_entity_id_entity'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entity_version'))
    )
    op.create_index(op.f('ix_entity_version_entity_id'), 'entity_version', ['entity_id'], unique=False)
    op.add_column('preview_file_replica', sa.Column('snapshot', postgresql.JSONB(astext_type=sa.Text()), nullable=True))


def downgrade() -> None:
    op.drop_column('preview_file_replica', 'snapshot')
    op.drop_index(op.f('ix_entity_version_entity_id'), table_name='entity_version')
    op.drop_table('entity_version')
