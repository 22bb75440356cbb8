"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 09:33:47.467708
"""
from alembic import op
import sqlalchemy as sa

from slate_common.migrations import create_event_tables, drop_event_tables

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_event_tables()
    op.create_table('project_replica',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('project_status_id', sa.UUID(), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_replica'))
    )


def downgrade() -> None:
    op.drop_table('project_replica')
    drop_event_tables()
