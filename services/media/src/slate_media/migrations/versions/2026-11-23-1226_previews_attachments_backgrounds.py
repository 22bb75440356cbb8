"""previews attachments backgrounds replicas

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 12:26:47.561708
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('attachment_file',
    sa.Column('name', sa.String(length=250), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('extension', sa.String(length=10), nullable=True),
    sa.Column('mimetype', sa.String(length=255), nullable=True),
    sa.Column('comment_id', sa.UUID(), nullable=True),
    sa.Column('chat_message_id', sa.UUID(), nullable=True),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachment_file'))
    )
    op.create_index(op.f('ix_attachment_file_chat_message_id'), 'attachment_file', ['chat_message_id'], unique=False)
    op.create_index(op.f('ix_attachment_file_comment_id'), 'attachment_file', ['comment_id'], unique=False)
    op.create_table('comment_replica',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('object_id', sa.UUID(), nullable=True),
    sa.Column('person_id', sa.UUID(), nullable=True),
    sa.Column('snapshot', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comment_replica'))
    )
    op.create_index(op.f('ix_comment_replica_object_id'), 'comment_replica', ['object_id'], unique=False)
    op.create_table('entity_replica',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('project_id', sa.UUID(), nullable=True),
    sa.Column('snapshot', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entity_replica'))
    )
    op.create_index(op.f('ix_entity_replica_project_id'), 'entity_replica', ['project_id'], unique=False)
    op.create_table('preview_background_file',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('original_name', sa.String(length=250), nullable=True),
    sa.Column('extension', sa.String(length=6), nullable=True),
    sa.Column('file_size', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_preview_background_file')),
    sa.UniqueConstraint('name', name=op.f('uq_preview_background_file_name'))
    )
    op.create_table('preview_file',
    sa.Column('name', sa.String(length=250), nullable=False),
    sa.Column('original_name', sa.String(length=250), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('extension', sa.String(length=6), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('path', sa.String(length=400), nullable=True),
    sa.Column('source', sa.String(length=40), nullable=True),
    sa.Column('file_size', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('validation_status', sa.String(length=20), nullable=False),
    sa.Column('annotations', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('duration', sa.Float(), nullable=False),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('token_in', sa.String(length=80), nullable=True),
    sa.Column('token_out', sa.String(length=80), nullable=True),
    sa.Column('task_id', sa.UUID(), nullable=True),
    sa.Column('person_id', sa.UUID(), nullable=True),
    sa.Column('source_file_id', sa.UUID(), nullable=True),
    sa.Column('shotgun_id', sa.Integer(), nullable=True),
    sa.Column('is_movie', sa.Boolean(), nullable=False),
    sa.Column('url', sa.String(length=600), nullable=True),
    sa.Column('uploaded_movie_url', sa.String(length=600), nullable=True),
    sa.Column('uploaded_movie_name', sa.String(length=150), nullable=True),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('source_extension', sa.String(length=10), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_preview_file'))
    )
    op.create_index(op.f('ix_preview_file_person_id'), 'preview_file', ['person_id'], unique=False)
    op.create_index(op.f('ix_preview_file_task_id'), 'preview_file', ['task_id'], unique=False)
    op.create_table('project_replica',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=True),
    sa.Column('team', postgresql.ARRAY(sa.UUID()), nullable=False),
    sa.Column('snapshot', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_replica'))
    )
    op.create_table('task_replica',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('project_id', sa.UUID(), nullable=True),
    sa.Column('entity_id', sa.UUID(), nullable=True),
    sa.Column('task_type_id', sa.UUID(), nullable=True),
    sa.Column('assignees', postgresql.ARRAY(sa.UUID()), nullable=False),
    sa.Column('snapshot', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_replica'))
    )
    op.create_index(op.f('ix_task_replica_entity_id'), 'task_replica', ['entity_id'], unique=False)
    op.create_index(op.f('ix_task_replica_project_id'), 'task_replica', ['project_id'], unique=False)
    op.create_table('preview_file_comment',
    sa.Column('preview_file_id', sa.UUID(), nullable=False),
    sa.Column('comment_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['preview_file_id'], ['preview_file.id'], name=op.f('fk_preview_file_comment_preview_file_id_preview_file'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('preview_file_id', 'comment_id', name=op.f('pk_preview_file_comment'))
    )
    op.create_index(op.f('ix_preview_file_comment_comment_id'), 'preview_file_comment', ['comment_id'], unique=False)
    op.create_table('project_preview_background',
    sa.Column('project_id', sa.UUID(), nullable=False),
    sa.Column('preview_background_file_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['preview_background_file_id'], ['preview_background_file.id'], name=op.f('fk_project_preview_background_preview_background_file_id_preview_background_file'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'preview_background_file_id', name=op.f('pk_project_preview_background'))
    )
    op.create_index(op.f('ix_project_preview_background_preview_background_file_id'), 'project_preview_background', ['preview_background_file_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_project_preview_background_preview_background_file_id'), table_name='project_preview_background')
    op.drop_table('project_preview_background')
    op.drop_index(op.f('ix_preview_file_comment_comment_id'), table_name='preview_file_comment')
    op.drop_table('preview_file_comment')
    op.drop_index(op.f('ix_task_replica_project_id'), table_name='task_replica')
    op.drop_index(op.f('ix_task_replica_entity_id'), table_name='task_replica')
    op.drop_table('task_replica')
    op.drop_table('project_replica')
    op.drop_index(op.f('ix_preview_file_task_id'), table_name='preview_file')
    op.drop_index(op.f('ix_preview_file_person_id'), table_name='preview_file')
    op.drop_table('preview_file')
    op.drop_table('preview_background_file')
    op.drop_index(op.f('ix_entity_replica_project_id'), table_name='entity_replica')
    op.drop_table('entity_replica')
    op.drop_index(op.f('ix_comment_replica_object_id'), table_name='comment_replica')
    op.drop_table('comment_replica')
    op.drop_index(op.f('ix_attachment_file_comment_id'), table_name='attachment_file')
    op.drop_index(op.f('ix_attachment_file_chat_message_id'), table_name='attachment_file')
    op.drop_table('attachment_file')
