"""reference seed marker (default departments once, on a fresh database only)

Revision ID: auth_seed_01
Revises: 0002
Create Date: 2026-12-06 17:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'auth_seed_01'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reference_seed',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('applied_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_reference_seed'))
    )
    # An install that already has people or departments is not a fresh database: mark
    # its defaults as given, so the first start after this upgrade seeds nothing.
    op.execute(
        "INSERT INTO reference_seed (name, applied_at) "
        "SELECT 'default-departments', now() at time zone 'utc' "
        "WHERE EXISTS (SELECT 1 FROM person) OR EXISTS (SELECT 1 FROM department)"
    )


def downgrade() -> None:
    op.drop_table('reference_seed')
