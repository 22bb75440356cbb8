"""preview upload token

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 13:26:02.136150
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('preview_file', sa.Column('upload_token', sa.UUID(), nullable=True))


def downgrade() -> None:
    op.drop_column('preview_file', 'upload_token')
