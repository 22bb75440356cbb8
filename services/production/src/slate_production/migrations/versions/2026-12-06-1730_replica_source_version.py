"""replica rows keep the owner's outbox sequence of the event that wrote them

Revision ID: prodrepver01
Revises: prodmisc02
Create Date: 2026-12-06 17:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'prodrepver01'
down_revision = 'prodmisc02'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('person', sa.Column('source_version', sa.BigInteger(), nullable=True))
    op.add_column('department', sa.Column('source_version', sa.BigInteger(), nullable=True))
    op.add_column('studio', sa.Column('source_version', sa.BigInteger(), nullable=True))
    op.add_column('preview_file_replica', sa.Column('source_version', sa.BigInteger(), nullable=True))
    op.add_column('attachment_file_replica', sa.Column('source_version', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column('person', 'source_version')
    op.drop_column('department', 'source_version')
    op.drop_column('studio', 'source_version')
    op.drop_column('preview_file_replica', 'source_version')
    op.drop_column('attachment_file_replica', 'source_version')

