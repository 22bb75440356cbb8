"""studio replica

Revision ID: prodmisc02
Revises: 0007
Create Date: 2026-11-23 17:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'prodmisc02'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('studio',
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('color', sa.String(length=7), nullable=True),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_studio'))
    )


def downgrade() -> None:
    op.drop_table('studio')
