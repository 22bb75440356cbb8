"""casting: entity links and concept links

Revision ID: 0007
Revises: prodmisc01
Create Date: 2026-11-23 17:00:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0007'
down_revision = 'prodmisc01'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('entity_link',
    sa.Column('entity_in_id', sa.UUID(), nullable=False),
    sa.Column('entity_out_id', sa.UUID(), nullable=False),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('nb_occurences', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=80), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['entity_in_id'], ['entity.id'], name=op.f('fk_entity_link_entity_in_id_entity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entity_out_id'], ['entity.id'], name=op.f('fk_entity_link_entity_out_id_entity'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entity_link')),
    sa.UniqueConstraint('entity_in_id', 'entity_out_id', name=op.f('uq_entity_link_entity_in_id_entity_out_id'))
    )
    op.create_index('ix_entity_link_entity_out_id', 'entity_link', ['entity_out_id'], unique=False)
    op.create_table('entity_concept_link',
    sa.Column('entity_in_id', sa.UUID(), nullable=False),
    sa.Column('entity_out_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['entity_in_id'], ['entity.id'], name=op.f('fk_entity_concept_link_entity_in_id_entity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entity_out_id'], ['entity.id'], name=op.f('fk_entity_concept_link_entity_out_id_entity'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('entity_in_id', 'entity_out_id', name=op.f('pk_entity_concept_link'))
    )
    op.create_index(op.f('ix_entity_concept_link_entity_out_id'), 'entity_concept_link', ['entity_out_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_entity_concept_link_entity_out_id'), table_name='entity_concept_link')
    op.drop_table('entity_concept_link')
    op.drop_index('ix_entity_link_entity_out_id', table_name='entity_link')
    op.drop_table('entity_link')
