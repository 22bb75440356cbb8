"""two-factor state, refresh token families, app login codes, login logs, studios

Revision ID: 0002
Revises: 5a0f1d0c2e71
Create Date: 2026-11-23 12:35:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '5a0f1d0c2e71'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('person', sa.Column('email_otp_code', sa.String(length=128), nullable=True))
    op.add_column('person', sa.Column('email_otp_expires_at', sa.DateTime(), nullable=True))
    op.add_column('person', sa.Column('reset_token_hash', sa.String(length=128), nullable=True))
    op.add_column('person', sa.Column('reset_token_expires_at', sa.DateTime(), nullable=True))
    op.add_column('person', sa.Column('bot_token_jti', sa.String(length=64), nullable=True))
    op.create_table('studio',
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('color', sa.String(length=7), nullable=False),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_studio')),
    sa.UniqueConstraint('name', name=op.f('uq_studio_name'))
    )
    op.create_table('login_log',
    sa.Column('person_id', sa.UUID(), nullable=False),
    sa.Column('ip_address', sa.String(length=50), nullable=True),
    sa.Column('origin', sa.String(length=30), nullable=False),
    sa.Column('success', sa.Boolean(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_login_log_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_log'))
    )
    op.create_index(op.f('ix_login_log_person_id'), 'login_log', ['person_id'], unique=False)
    op.create_table('desktop_login_log',
    sa.Column('person_id', sa.UUID(), nullable=False),
    sa.Column('date', sa.DateTime(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_desktop_login_log_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_desktop_login_log'))
    )
    op.create_index(op.f('ix_desktop_login_log_person_id'), 'desktop_login_log', ['person_id'], unique=False)
    op.create_table('refresh_token',
    sa.Column('jti', sa.String(length=64), nullable=False),
    sa.Column('family_id', sa.String(length=64), nullable=False),
    sa.Column('person_id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_refresh_token_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('jti', name=op.f('pk_refresh_token'))
    )
    op.create_index(op.f('ix_refresh_token_family_id'), 'refresh_token', ['family_id'], unique=False)
    op.create_index(op.f('ix_refresh_token_person_id'), 'refresh_token', ['person_id'], unique=False)
    op.create_table('app_login_code',
    sa.Column('code_hash', sa.String(length=128), nullable=False),
    sa.Column('person_id', sa.UUID(), nullable=False),
    sa.Column('code_challenge', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_app_login_code_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('code_hash', name=op.f('pk_app_login_code'))
    )


def downgrade() -> None:
    op.drop_table('app_login_code')
    op.drop_index(op.f('ix_refresh_token_person_id'), table_name='refresh_token')
    op.drop_index(op.f('ix_refresh_token_family_id'), table_name='refresh_token')
    op.drop_table('refresh_token')
    op.drop_index(op.f('ix_desktop_login_log_person_id'), table_name='desktop_login_log')
    op.drop_table('desktop_login_log')
    op.drop_index(op.f('ix_login_log_person_id'), table_name='login_log')
    op.drop_table('login_log')
    op.drop_table('studio')
    op.drop_column('person', 'bot_token_jti')
    op.drop_column('person', 'reset_token_expires_at')
    op.drop_column('person', 'reset_token_hash')
    op.drop_column('person', 'email_otp_expires_at')
    op.drop_column('person', 'email_otp_code')
