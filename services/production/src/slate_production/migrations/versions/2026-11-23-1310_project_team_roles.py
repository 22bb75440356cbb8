"""project team roles

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 13:10:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('project_person_link', sa.Column('role', sa.String(length=20), nullable=True))


def downgrade() -> None:
    op.drop_column('project_person_link', 'role')
