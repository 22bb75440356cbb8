"""the task replica keeps the columns media queries on, not the whole snapshot (nothing
read it; without it, a task update that changes none of those columns is skipped)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 09:30:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_column('task_replica', 'snapshot')


def downgrade() -> None:
    op.add_column('task_replica', sa.Column('snapshot', postgresql.JSONB(astext_type=sa.Text()),
                                            server_default=sa.text("'{}'::jsonb"), nullable=False))
    op.alter_column('task_replica', 'snapshot', server_default=None)
