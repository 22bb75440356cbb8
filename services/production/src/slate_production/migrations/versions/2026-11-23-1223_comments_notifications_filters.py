"""comments, notifications, subscriptions, search filters, news, preview replica

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 12:23:03.348858
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('preview_file_replica',
    sa.Column('name', sa.String(length=250), nullable=True),
    sa.Column('original_name', sa.String(length=250), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=True),
    sa.Column('extension', sa.String(length=6), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=True),
    sa.Column('validation_status', sa.String(length=20), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('duration', sa.Float(), nullable=True),
    sa.Column('file_size', sa.BigInteger(), nullable=True),
    sa.Column('source', sa.String(length=40), nullable=True),
    sa.Column('annotations', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('task_id', sa.UUID(), nullable=True),
    sa.Column('comment_id', sa.UUID(), nullable=True),
    sa.Column('person_id', sa.UUID(), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_preview_file_replica'))
    )
    op.create_index(op.f('ix_preview_file_replica_comment_id'), 'preview_file_replica', ['comment_id'], unique=False)
    op.create_index(op.f('ix_preview_file_replica_task_id'), 'preview_file_replica', ['task_id'], unique=False)
    op.create_table('search_filter_group',
    sa.Column('list_type', sa.String(length=80), nullable=False),
    sa.Column('entity_type', sa.String(length=80), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('color', sa.String(length=8), nullable=False),
    sa.Column('is_shared', sa.Boolean(), nullable=False),
    sa.Column('person_id', sa.UUID(), nullable=True),
    sa.Column('project_id', sa.UUID(), nullable=True),
    sa.Column('department_id', sa.UUID(), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_search_filter_group_project_id_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_filter_group'))
    )
    op.create_index(op.f('ix_search_filter_group_person_id'), 'search_filter_group', ['person_id'], unique=False)
    op.create_index(op.f('ix_search_filter_group_project_id'), 'search_filter_group', ['project_id'], unique=False)
    op.create_table('search_filter',
    sa.Column('list_type', sa.String(length=80), nullable=False),
    sa.Column('entity_type', sa.String(length=80), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('search_query', sa.String(length=500), nullable=False),
    sa.Column('is_shared', sa.Boolean(), nullable=False),
    sa.Column('department_id', sa.UUID(), nullable=True),
    sa.Column('search_filter_group_id', sa.UUID(), nullable=True),
    sa.Column('person_id', sa.UUID(), nullable=True),
    sa.Column('project_id', sa.UUID(), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_search_filter_project_id_project'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['search_filter_group_id'], ['search_filter_group.id'], name=op.f('fk_search_filter_search_filter_group_id_search_filter_group'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_filter'))
    )
    op.create_index(op.f('ix_search_filter_person_id'), 'search_filter', ['person_id'], unique=False)
    op.create_index(op.f('ix_search_filter_project_id'), 'search_filter', ['project_id'], unique=False)
    op.create_index(op.f('ix_search_filter_search_filter_group_id'), 'search_filter', ['search_filter_group_id'], unique=False)
    op.create_table('comment',
    sa.Column('shotgun_id', sa.Integer(), nullable=True),
    sa.Column('object_id', sa.UUID(), nullable=False),
    sa.Column('object_type', sa.String(length=80), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('replies', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('checklist', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('pinned', sa.Boolean(), nullable=True),
    sa.Column('for_client', sa.Boolean(), nullable=False),
    sa.Column('links', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('task_status_id', sa.UUID(), nullable=True),
    sa.Column('person_id', sa.UUID(), nullable=False),
    sa.Column('editor_id', sa.UUID(), nullable=True),
    sa.Column('preview_file_id', sa.UUID(), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['object_id'], ['task.id'], name=op.f('fk_comment_object_id_task'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_status_id'], ['task_status.id'], name=op.f('fk_comment_task_status_id_task_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comment'))
    )
    op.create_index('ix_comment_object_id_created_at', 'comment', ['object_id', 'created_at'], unique=False)
    op.create_index(op.f('ix_comment_person_id'), 'comment', ['person_id'], unique=False)
    op.create_index(op.f('ix_comment_task_status_id'), 'comment', ['task_status_id'], unique=False)
    op.create_table('subscription',
    sa.Column('person_id', sa.UUID(), nullable=False),
    sa.Column('task_id', sa.UUID(), nullable=True),
    sa.Column('entity_id', sa.UUID(), nullable=True),
    sa.Column('task_type_id', sa.UUID(), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['entity_id'], ['entity.id'], name=op.f('fk_subscription_entity_id_entity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_subscription_task_id_task'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_type_id'], ['task_type.id'], name=op.f('fk_subscription_task_type_id_task_type'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscription'))
    )
    op.create_index(op.f('ix_subscription_entity_id'), 'subscription', ['entity_id'], unique=False)
    op.create_index(op.f('ix_subscription_person_id'), 'subscription', ['person_id'], unique=False)
    op.create_index('ix_subscription_task_id_person_id', 'subscription', ['task_id', 'person_id'], unique=False)
    op.create_table('comment_acknowledgement_link',
    sa.Column('comment_id', sa.UUID(), nullable=False),
    sa.Column('person_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], name=op.f('fk_comment_acknowledgement_link_comment_id_comment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('comment_id', 'person_id', name=op.f('pk_comment_acknowledgement_link'))
    )
    op.create_index(op.f('ix_comment_acknowledgement_link_person_id'), 'comment_acknowledgement_link', ['person_id'], unique=False)
    op.create_table('comment_department_mention_link',
    sa.Column('comment_id', sa.UUID(), nullable=False),
    sa.Column('department_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], name=op.f('fk_comment_department_mention_link_comment_id_comment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('comment_id', 'department_id', name=op.f('pk_comment_department_mention_link'))
    )
    op.create_index(op.f('ix_comment_department_mention_link_department_id'), 'comment_department_mention_link', ['department_id'], unique=False)
    op.create_table('comment_mention_link',
    sa.Column('comment_id', sa.UUID(), nullable=False),
    sa.Column('person_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], name=op.f('fk_comment_mention_link_comment_id_comment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('comment_id', 'person_id', name=op.f('pk_comment_mention_link'))
    )
    op.create_index(op.f('ix_comment_mention_link_person_id'), 'comment_mention_link', ['person_id'], unique=False)
    op.create_table('news',
    sa.Column('change', sa.Boolean(), nullable=False),
    sa.Column('author_id', sa.UUID(), nullable=False),
    sa.Column('comment_id', sa.UUID(), nullable=True),
    sa.Column('task_id', sa.UUID(), nullable=False),
    sa.Column('preview_file_id', sa.UUID(), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], name=op.f('fk_news_comment_id_comment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_news_task_id_task'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_news'))
    )
    op.create_index(op.f('ix_news_author_id'), 'news', ['author_id'], unique=False)
    op.create_index(op.f('ix_news_comment_id'), 'news', ['comment_id'], unique=False)
    op.create_index(op.f('ix_news_task_id'), 'news', ['task_id'], unique=False)
    op.create_table('notification',
    sa.Column('read', sa.Boolean(), nullable=False),
    sa.Column('change', sa.Boolean(), nullable=False),
    sa.Column('notification_type', sa.String(length=20), nullable=False),
    sa.Column('person_id', sa.UUID(), nullable=False),
    sa.Column('author_id', sa.UUID(), nullable=False),
    sa.Column('comment_id', sa.UUID(), nullable=True),
    sa.Column('task_id', sa.UUID(), nullable=True),
    sa.Column('playlist_id', sa.UUID(), nullable=True),
    sa.Column('reply_id', sa.UUID(), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], name=op.f('fk_notification_comment_id_comment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_notification_task_id_task'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification'))
    )
    op.create_index(op.f('ix_notification_comment_id'), 'notification', ['comment_id'], unique=False)
    op.create_index('ix_notification_person_id_created_at', 'notification', ['person_id', 'created_at'], unique=False)
    op.create_index(op.f('ix_notification_task_id'), 'notification', ['task_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_notification_task_id'), table_name='notification')
    op.drop_index('ix_notification_person_id_created_at', table_name='notification')
    op.drop_index(op.f('ix_notification_comment_id'), table_name='notification')
    op.drop_table('notification')
    op.drop_index(op.f('ix_news_task_id'), table_name='news')
    op.drop_index(op.f('ix_news_comment_id'), table_name='news')
    op.drop_index(op.f('ix_news_author_id'), table_name='news')
    op.drop_table('news')
    op.drop_index(op.f('ix_comment_mention_link_person_id'), table_name='comment_mention_link')
    op.drop_table('comment_mention_link')
    op.drop_index(op.f('ix_comment_department_mention_link_department_id'), table_name='comment_department_mention_link')
    op.drop_table('comment_department_mention_link')
    op.drop_index(op.f('ix_comment_acknowledgement_link_person_id'), table_name='comment_acknowledgement_link')
    op.drop_table('comment_acknowledgement_link')
    op.drop_index('ix_subscription_task_id_person_id', table_name='subscription')
    op.drop_index(op.f('ix_subscription_person_id'), table_name='subscription')
    op.drop_index(op.f('ix_subscription_entity_id'), table_name='subscription')
    op.drop_table('subscription')
    op.drop_index(op.f('ix_comment_task_status_id'), table_name='comment')
    op.drop_index(op.f('ix_comment_person_id'), table_name='comment')
    op.drop_index('ix_comment_object_id_created_at', table_name='comment')
    op.drop_table('comment')
    op.drop_index(op.f('ix_search_filter_search_filter_group_id'), table_name='search_filter')
    op.drop_index(op.f('ix_search_filter_project_id'), table_name='search_filter')
    op.drop_index(op.f('ix_search_filter_person_id'), table_name='search_filter')
    op.drop_table('search_filter')
    op.drop_index(op.f('ix_search_filter_group_project_id'), table_name='search_filter_group')
    op.drop_index(op.f('ix_search_filter_group_person_id'), table_name='search_filter_group')
    op.drop_table('search_filter_group')
    op.drop_index(op.f('ix_preview_file_replica_task_id'), table_name='preview_file_replica')
    op.drop_index(op.f('ix_preview_file_replica_comment_id'), table_name='preview_file_replica')
    op.drop_table('preview_file_replica')
