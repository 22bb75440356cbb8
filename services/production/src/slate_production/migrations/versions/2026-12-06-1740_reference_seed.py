"""reference seed marker, default task types waiting for their department

Revision ID: prod_seed_01
Revises: prodrepver01
Create Date: 2026-12-06 17:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'prod_seed_01'
down_revision = 'prodrepver01'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reference_seed',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('applied_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_reference_seed'))
    )
    op.create_table('pending_task_type_department',
    sa.Column('task_type_id', sa.UUID(), nullable=False),
    sa.Column('department_name', sa.String(length=80), nullable=False),
    sa.PrimaryKeyConstraint('task_type_id', name=op.f('pk_pending_task_type_department'))
    )
    op.create_index(op.f('ix_pending_task_type_department_department_name'), 'pending_task_type_department',
                    ['department_name'], unique=False)
    # An install that already has its reference data is not a fresh database: mark it,
    # so the first start after this upgrade seeds nothing.
    op.execute(
        "INSERT INTO reference_seed (name, applied_at) "
        "SELECT 'reference-data', now() at time zone 'utc' "
        "WHERE EXISTS (SELECT 1 FROM task_type) OR EXISTS (SELECT 1 FROM task_status)"
    )


def downgrade() -> None:
    op.drop_index(op.f('ix_pending_task_type_department_department_name'), table_name='pending_task_type_department')
    op.drop_table('pending_task_type_department')
    op.drop_table('reference_seed')
