"""initial identity schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 09:32:09.959251
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
    op.create_table('department',
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('color', sa.String(length=7), nullable=False),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_department')),
    sa.UniqueConstraint('name', name=op.f('uq_department_name'))
    )
    op.create_table('organisation',
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('hours_by_day', sa.Float(), nullable=False),
    sa.Column('has_avatar', sa.Boolean(), nullable=False),
    sa.Column('use_original_file_name', sa.Boolean(), nullable=False),
    sa.Column('timesheets_locked', sa.Boolean(), nullable=False),
    sa.Column('format_duration_in_hours', sa.Boolean(), nullable=False),
    sa.Column('hd_by_default', sa.Boolean(), nullable=False),
    sa.Column('chat_token_slack', sa.String(length=80), nullable=False),
    sa.Column('chat_webhook_mattermost', sa.String(length=80), nullable=False),
    sa.Column('chat_token_discord', sa.String(length=80), nullable=False),
    sa.Column('dark_theme_by_default', sa.Boolean(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation'))
    )
    op.create_table('person',
    sa.Column('first_name', sa.String(length=80), nullable=False),
    sa.Column('last_name', sa.String(length=80), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=30), nullable=True),
    sa.Column('country', sa.String(length=100), nullable=True),
    sa.Column('contract_type', sa.String(length=30), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('last_presence', sa.Date(), nullable=True),
    sa.Column('password', sa.Text(), nullable=True),
    sa.Column('desktop_login', sa.String(length=80), nullable=True),
    sa.Column('totp_enabled', sa.Boolean(), nullable=False),
    sa.Column('totp_secret', sa.String(length=64), nullable=True),
    sa.Column('email_otp_enabled', sa.Boolean(), nullable=False),
    sa.Column('email_otp_secret', sa.String(length=64), nullable=True),
    sa.Column('fido_enabled', sa.Boolean(), nullable=False),
    sa.Column('fido_credentials', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('recovery_codes', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('preferred_two_factor_authentication', sa.String(length=30), nullable=True),
    sa.Column('shotgun_id', sa.Integer(), nullable=True),
    sa.Column('timezone', sa.String(length=50), nullable=False),
    sa.Column('locale', sa.String(length=10), nullable=False),
    sa.Column('use_12_hour_clock', sa.Boolean(), nullable=False),
    sa.Column('display_date_format', sa.String(length=20), nullable=False),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('role', sa.String(length=30), nullable=False),
    sa.Column('position', sa.String(length=30), nullable=True),
    sa.Column('seniority', sa.String(length=30), nullable=True),
    sa.Column('daily_salary', sa.Integer(), nullable=False),
    sa.Column('has_avatar', sa.Boolean(), nullable=False),
    sa.Column('notifications_enabled', sa.Boolean(), nullable=False),
    sa.Column('notifications_slack_enabled', sa.Boolean(), nullable=False),
    sa.Column('notifications_slack_userid', sa.String(length=60), nullable=False),
    sa.Column('notifications_mattermost_enabled', sa.Boolean(), nullable=False),
    sa.Column('notifications_mattermost_userid', sa.String(length=60), nullable=False),
    sa.Column('notifications_discord_enabled', sa.Boolean(), nullable=False),
    sa.Column('notifications_discord_userid', sa.String(length=60), nullable=False),
    sa.Column('is_bot', sa.Boolean(), nullable=False),
    sa.Column('is_guest', sa.Boolean(), nullable=False),
    sa.Column('preview_project_id', sa.UUID(), nullable=True),
    sa.Column('preview_opened_at', sa.DateTime(), nullable=True),
    sa.Column('preview_open_until', sa.DateTime(), nullable=True),
    sa.Column('expiration_date', sa.Date(), nullable=True),
    sa.Column('is_generated_from_ldap', sa.Boolean(), nullable=False),
    sa.Column('ldap_uid', sa.String(length=60), nullable=True),
    sa.Column('studio_id', sa.UUID(), nullable=True),
    sa.Column('failed_login_count', sa.Integer(), nullable=False),
    sa.Column('last_failed_login_at', sa.DateTime(), nullable=True),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person')),
    sa.UniqueConstraint('email', name=op.f('uq_person_email'))
    )
    op.create_table('signing_key',
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('private_pem', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('kid', name=op.f('pk_signing_key'))
    )
    op.create_table('department_link',
    sa.Column('person_id', sa.UUID(), nullable=False),
    sa.Column('department_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_department_link_department_id_department'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_department_link_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', 'department_id', name=op.f('pk_department_link'))
    )


def downgrade() -> None:
    op.drop_table('department_link')
    op.drop_table('signing_key')
    op.drop_table('person')
    op.drop_table('organisation')
    op.drop_table('department')
    drop_event_tables()
