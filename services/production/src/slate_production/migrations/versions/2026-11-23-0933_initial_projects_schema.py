"""initial projects schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 09:33:08.832202
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from slate_common.migrations import create_event_tables, drop_event_tables

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_event_tables()
    op.create_table('project_status',
    sa.Column('name', sa.String(length=20), nullable=False),
    sa.Column('color', sa.String(length=7), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_status')),
    sa.UniqueConstraint('name', name=op.f('uq_project_status_name'))
    )
    op.create_table('project',
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('code', sa.String(length=80), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('shotgun_id', sa.Integer(), nullable=True),
    sa.Column('file_tree', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('has_avatar', sa.Boolean(), nullable=False),
    sa.Column('fps', sa.String(length=10), nullable=False),
    sa.Column('ratio', sa.String(length=10), nullable=False),
    sa.Column('resolution', sa.String(length=12), nullable=False),
    sa.Column('production_type', sa.String(length=20), nullable=False),
    sa.Column('production_style', sa.String(length=20), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('man_days', sa.Integer(), nullable=True),
    sa.Column('nb_episodes', sa.Integer(), nullable=False),
    sa.Column('episode_span', sa.Integer(), nullable=False),
    sa.Column('max_retakes', sa.Integer(), nullable=False),
    sa.Column('is_clients_isolated', sa.Boolean(), nullable=False),
    sa.Column('is_client_stats_visible', sa.Boolean(), nullable=False),
    sa.Column('is_client_task_list_visible', sa.Boolean(), nullable=False),
    sa.Column('is_client_task_panel_visible', sa.Boolean(), nullable=False),
    sa.Column('is_preview_download_allowed', sa.Boolean(), nullable=False),
    sa.Column('is_set_preview_automated', sa.Boolean(), nullable=False),
    sa.Column('homepage', sa.String(length=80), nullable=False),
    sa.Column('is_publish_default_for_artists', sa.Boolean(), nullable=False),
    sa.Column('is_bot_collaboration_enabled', sa.Boolean(), nullable=False),
    sa.Column('is_single_preview_per_revision', sa.Boolean(), nullable=False),
    sa.Column('is_frame_in_numbering', sa.Boolean(), nullable=False),
    sa.Column('revision_padding', sa.Integer(), nullable=False),
    sa.Column('hd_bitrate_compression', sa.Integer(), nullable=True),
    sa.Column('ld_bitrate_compression', sa.Integer(), nullable=True),
    sa.Column('project_status_id', sa.UUID(), nullable=True),
    sa.Column('default_preview_background_file_id', sa.UUID(), nullable=True),
    sa.Column('from_schedule_version_id', sa.UUID(), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['project_status_id'], ['project_status.id'], name=op.f('fk_project_project_status_id_project_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project')),
    sa.UniqueConstraint('name', name=op.f('uq_project_name'))
    )
    op.create_index(op.f('ix_project_project_status_id'), 'project', ['project_status_id'], unique=False)
    op.create_table('project_person_link',
    sa.Column('project_id', sa.UUID(), nullable=False),
    sa.Column('person_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_project_person_link_project_id_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'person_id', name=op.f('pk_project_person_link'))
    )
    op.create_index(op.f('ix_project_person_link_person_id'), 'project_person_link', ['person_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_project_person_link_person_id'), table_name='project_person_link')
    op.drop_table('project_person_link')
    op.drop_index(op.f('ix_project_project_status_id'), table_name='project')
    op.drop_table('project')
    op.drop_table('project_status')
    drop_event_tables()
