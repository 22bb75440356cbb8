"""attachment file replica

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 13:14:03.060714
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('attachment_file_replica',
    sa.Column('name', sa.String(length=250), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('extension', sa.String(length=10), nullable=True),
    sa.Column('mimetype', sa.String(length=255), nullable=True),
    sa.Column('comment_id', sa.UUID(), nullable=True),
    sa.Column('reply_id', sa.UUID(), nullable=True),
    sa.Column('chat_message_id', sa.UUID(), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachment_file_replica'))
    )
    op.create_index(op.f('ix_attachment_file_replica_comment_id'), 'attachment_file_replica', ['comment_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_attachment_file_replica_comment_id'), table_name='attachment_file_replica')
    op.drop_table('attachment_file_replica')
