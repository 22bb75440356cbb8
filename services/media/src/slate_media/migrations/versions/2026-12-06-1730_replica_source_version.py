"""replica rows keep the owner's outbox sequence of the event that wrote them

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 17:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('project_replica', sa.Column('source_version', sa.BigInteger(), nullable=True))
    op.add_column('task_replica', sa.Column('source_version', sa.BigInteger(), nullable=True))
    op.add_column('comment_replica', sa.Column('source_version', sa.BigInteger(), nullable=True))
    op.add_column('entity_replica', sa.Column('source_version', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column('project_replica', 'source_version')
    op.drop_column('task_replica', 'source_version')
    op.drop_column('comment_replica', 'source_version')
    op.drop_column('entity_replica', 'source_version')

