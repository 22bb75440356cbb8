"""replica rows keep the owner's outbox sequence of the event that wrote them

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 17:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('project_replica', sa.Column('source_version', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column('project_replica', 'source_version')

