"""entities and tasks

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 12:18:38.362378
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('department',
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('color', sa.String(length=7), nullable=True),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_department'))
    )
    op.create_table('entity_type',
    sa.Column('name', sa.String(length=30), nullable=False),
    sa.Column('short_name', sa.String(length=20), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entity_type')),
    sa.UniqueConstraint('name', name=op.f('uq_entity_type_name'))
    )
    op.create_table('person',
    sa.Column('first_name', sa.String(length=80), nullable=False),
    sa.Column('last_name', sa.String(length=80), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('desktop_login', sa.String(length=80), nullable=True),
    sa.Column('role', sa.String(length=30), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('is_bot', sa.Boolean(), nullable=False),
    sa.Column('has_avatar', sa.Boolean(), nullable=False),
    sa.Column('notifications_enabled', sa.Boolean(), nullable=False),
    sa.Column('studio_id', sa.UUID(), nullable=True),
    sa.Column('snapshot', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person'))
    )
    op.create_table('task_status',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('short_name', sa.String(length=10), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('color', sa.String(length=7), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('is_done', sa.Boolean(), nullable=False),
    sa.Column('is_artist_allowed', sa.Boolean(), nullable=False),
    sa.Column('is_client_allowed', sa.Boolean(), nullable=False),
    sa.Column('is_retake', sa.Boolean(), nullable=False),
    sa.Column('is_feedback_request', sa.Boolean(), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('is_wip', sa.Boolean(), nullable=False),
    sa.Column('shotgun_id', sa.Integer(), nullable=True),
    sa.Column('for_concept', sa.Boolean(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_status')),
    sa.UniqueConstraint('short_name', name=op.f('uq_task_status_short_name'))
    )
    op.create_table('task_type',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('short_name', sa.String(length=20), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('color', sa.String(length=7), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('for_entity', sa.String(length=30), nullable=False),
    sa.Column('allow_timelog', sa.Boolean(), nullable=False),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('shotgun_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.UUID(), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_type')),
    sa.UniqueConstraint('name', 'for_entity', 'department_id', name=op.f('uq_task_type_name_for_entity_department_id'))
    )
    op.create_index(op.f('ix_task_type_department_id'), 'task_type', ['department_id'], unique=False)
    op.create_table('department_person_link',
    sa.Column('person_id', sa.UUID(), nullable=False),
    sa.Column('department_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_department_person_link_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', 'department_id', name=op.f('pk_department_person_link'))
    )
    op.create_index(op.f('ix_department_person_link_department_id'), 'department_person_link', ['department_id'], unique=False)
    op.create_table('entity_type_task_type_link',
    sa.Column('entity_type_id', sa.UUID(), nullable=False),
    sa.Column('task_type_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['entity_type_id'], ['entity_type.id'], name=op.f('fk_entity_type_task_type_link_entity_type_id_entity_type'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_type_id'], ['task_type.id'], name=op.f('fk_entity_type_task_type_link_task_type_id_task_type'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('entity_type_id', 'task_type_id', name=op.f('pk_entity_type_task_type_link'))
    )
    op.create_table('entity',
    sa.Column('name', sa.String(length=160), nullable=False),
    sa.Column('code', sa.String(length=160), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('shotgun_id', sa.Integer(), nullable=True),
    sa.Column('canceled', sa.Boolean(), nullable=False),
    sa.Column('nb_frames', sa.Integer(), nullable=True),
    sa.Column('nb_entities_out', sa.Integer(), nullable=False),
    sa.Column('is_casting_standby', sa.Boolean(), nullable=False),
    sa.Column('is_shared', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('project_id', sa.UUID(), nullable=False),
    sa.Column('entity_type_id', sa.UUID(), nullable=False),
    sa.Column('parent_id', sa.UUID(), nullable=True),
    sa.Column('source_id', sa.UUID(), nullable=True),
    sa.Column('preview_file_id', sa.UUID(), nullable=True),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('ready_for', sa.UUID(), nullable=True),
    sa.Column('created_by', sa.UUID(), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['entity_type_id'], ['entity_type.id'], name=op.f('fk_entity_entity_type_id_entity_type')),
    sa.ForeignKeyConstraint(['parent_id'], ['entity.id'], name=op.f('fk_entity_parent_id_entity')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_entity_project_id_project'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ready_for'], ['task_type.id'], name=op.f('fk_entity_ready_for_task_type')),
    sa.ForeignKeyConstraint(['source_id'], ['entity.id'], name=op.f('fk_entity_source_id_entity')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entity')),
    sa.UniqueConstraint('name', 'project_id', 'entity_type_id', 'parent_id', name=op.f('uq_entity_name_project_id_entity_type_id_parent_id'))
    )
    op.create_index(op.f('ix_entity_entity_type_id'), 'entity', ['entity_type_id'], unique=False)
    op.create_index(op.f('ix_entity_parent_id'), 'entity', ['parent_id'], unique=False)
    op.create_index('ix_entity_project_id_entity_type_id', 'entity', ['project_id', 'entity_type_id'], unique=False)
    op.create_index(op.f('ix_entity_source_id'), 'entity', ['source_id'], unique=False)
    op.create_table('project_asset_type_link',
    sa.Column('project_id', sa.UUID(), nullable=False),
    sa.Column('asset_type_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['asset_type_id'], ['entity_type.id'], name=op.f('fk_project_asset_type_link_asset_type_id_entity_type'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_project_asset_type_link_project_id_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'asset_type_id', name=op.f('pk_project_asset_type_link'))
    )
    op.create_table('project_task_status_link',
    sa.Column('project_id', sa.UUID(), nullable=False),
    sa.Column('task_status_id', sa.UUID(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=True),
    sa.Column('roles_for_board', postgresql.ARRAY(sa.String(length=20)), nullable=True),
    sa.Column('is_client_allowed', sa.Boolean(), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_project_task_status_link_project_id_project'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_status_id'], ['task_status.id'], name=op.f('fk_project_task_status_link_task_status_id_task_status'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_task_status_link')),
    sa.UniqueConstraint('project_id', 'task_status_id', name=op.f('uq_project_task_status_link_project_id_task_status_id'))
    )
    op.create_index(op.f('ix_project_task_status_link_project_id'), 'project_task_status_link', ['project_id'], unique=False)
    op.create_index(op.f('ix_project_task_status_link_task_status_id'), 'project_task_status_link', ['task_status_id'], unique=False)
    op.create_table('project_task_type_link',
    sa.Column('project_id', sa.UUID(), nullable=False),
    sa.Column('task_type_id', sa.UUID(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=True),
    sa.Column('hd_bitrate_compression', sa.Integer(), nullable=True),
    sa.Column('ld_bitrate_compression', sa.Integer(), nullable=True),
    sa.Column('is_client_visible', sa.Boolean(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_project_task_type_link_project_id_project'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_type_id'], ['task_type.id'], name=op.f('fk_project_task_type_link_task_type_id_task_type'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_task_type_link')),
    sa.UniqueConstraint('project_id', 'task_type_id', name=op.f('uq_project_task_type_link_project_id_task_type_id'))
    )
    op.create_index(op.f('ix_project_task_type_link_project_id'), 'project_task_type_link', ['project_id'], unique=False)
    op.create_index(op.f('ix_project_task_type_link_task_type_id'), 'project_task_type_link', ['task_type_id'], unique=False)
    op.create_table('task',
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('difficulty', sa.Integer(), nullable=False),
    sa.Column('duration', sa.Float(), nullable=False),
    sa.Column('estimation', sa.Float(), nullable=False),
    sa.Column('completion_rate', sa.Integer(), nullable=False),
    sa.Column('retake_count', sa.Integer(), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.DateTime(), nullable=True),
    sa.Column('due_date', sa.DateTime(), nullable=True),
    sa.Column('real_start_date', sa.DateTime(), nullable=True),
    sa.Column('end_date', sa.DateTime(), nullable=True),
    sa.Column('done_date', sa.DateTime(), nullable=True),
    sa.Column('last_comment_date', sa.DateTime(), nullable=True),
    sa.Column('nb_assets_ready', sa.Integer(), nullable=False),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('nb_drawings', sa.Integer(), nullable=False),
    sa.Column('shotgun_id', sa.Integer(), nullable=True),
    sa.Column('last_preview_file_id', sa.UUID(), nullable=True),
    sa.Column('project_id', sa.UUID(), nullable=False),
    sa.Column('task_type_id', sa.UUID(), nullable=False),
    sa.Column('task_status_id', sa.UUID(), nullable=False),
    sa.Column('entity_id', sa.UUID(), nullable=False),
    sa.Column('assigner_id', sa.UUID(), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['entity_id'], ['entity.id'], name=op.f('fk_task_entity_id_entity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_task_project_id_project'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_status_id'], ['task_status.id'], name=op.f('fk_task_task_status_id_task_status')),
    sa.ForeignKeyConstraint(['task_type_id'], ['task_type.id'], name=op.f('fk_task_task_type_id_task_type')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task')),
    sa.UniqueConstraint('name', 'project_id', 'task_type_id', 'entity_id', name=op.f('uq_task_name_project_id_task_type_id_entity_id'))
    )
    op.create_index(op.f('ix_task_entity_id'), 'task', ['entity_id'], unique=False)
    op.create_index(op.f('ix_task_project_id'), 'task', ['project_id'], unique=False)
    op.create_index(op.f('ix_task_task_status_id'), 'task', ['task_status_id'], unique=False)
    op.create_index(op.f('ix_task_task_type_id'), 'task', ['task_type_id'], unique=False)
    op.create_table('task_person_link',
    sa.Column('task_id', sa.UUID(), nullable=False),
    sa.Column('person_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_task_person_link_task_id_task'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('task_id', 'person_id', name=op.f('pk_task_person_link'))
    )
    op.create_index(op.f('ix_task_person_link_person_id'), 'task_person_link', ['person_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_task_person_link_person_id'), table_name='task_person_link')
    op.drop_table('task_person_link')
    op.drop_index(op.f('ix_task_task_type_id'), table_name='task')
    op.drop_index(op.f('ix_task_task_status_id'), table_name='task')
    op.drop_index(op.f('ix_task_project_id'), table_name='task')
    op.drop_index(op.f('ix_task_entity_id'), table_name='task')
    op.drop_table('task')
    op.drop_index(op.f('ix_project_task_type_link_task_type_id'), table_name='project_task_type_link')
    op.drop_index(op.f('ix_project_task_type_link_project_id'), table_name='project_task_type_link')
    op.drop_table('project_task_type_link')
    op.drop_index(op.f('ix_project_task_status_link_task_status_id'), table_name='project_task_status_link')
    op.drop_index(op.f('ix_project_task_status_link_project_id'), table_name='project_task_status_link')
    op.drop_table('project_task_status_link')
    op.drop_table('project_asset_type_link')
    op.drop_index(op.f('ix_entity_source_id'), table_name='entity')
    op.drop_index('ix_entity_project_id_entity_type_id', table_name='entity')
    op.drop_index(op.f('ix_entity_parent_id'), table_name='entity')
    op.drop_index(op.f('ix_entity_entity_type_id'), table_name='entity')
    op.drop_table('entity')
    op.drop_table('entity_type_task_type_link')
    op.drop_index(op.f('ix_department_person_link_department_id'), table_name='department_person_link')
    op.drop_table('department_person_link')
    op.drop_index(op.f('ix_task_type_department_id'), table_name='task_type')
    op.drop_table('task_type')
    op.drop_table('task_status')
    op.drop_table('person')
    op.drop_table('entity_type')
    op.drop_table('department')
