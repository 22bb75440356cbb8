"""sso identities and states, fido challenges

Revision ID: 5a0f1d0c2e71
Revises: 0001
Create Date: 2026-11-23 12:40:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '5a0f1d0c2e71'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sso_identity',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('person_id', sa.UUID(), nullable=False),
    sa.Column('provider', sa.String(length=10), nullable=False),
    sa.Column('issuer', sa.String(length=512), nullable=False),
    sa.Column('subject', sa.String(length=512), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_sso_identity_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sso_identity')),
    sa.UniqueConstraint('provider', 'issuer', 'subject', name=op.f('uq_sso_identity_provider_issuer_subject')),
    sa.UniqueConstraint('person_id', 'provider', 'issuer', name=op.f('uq_sso_identity_person_id_provider_issuer'))
    )
    op.create_index(op.f('ix_sso_identity_person_id'), 'sso_identity', ['person_id'], unique=False)
    op.create_table('sso_state',
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('provider', sa.String(length=10), nullable=False),
    sa.Column('nonce', sa.String(length=128), nullable=True),
    sa.Column('code_verifier', sa.Text(), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_sso_state'))
    )
    op.create_index(op.f('ix_sso_state_expires_at'), 'sso_state', ['expires_at'], unique=False)
    op.create_table('fido_challenge',
    sa.Column('challenge', sa.String(length=128), nullable=False),
    sa.Column('person_id', sa.UUID(), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('state', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_fido_challenge_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('challenge', name=op.f('pk_fido_challenge'))
    )
    op.create_index(op.f('ix_fido_challenge_person_id'), 'fido_challenge', ['person_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_fido_challenge_person_id'), table_name='fido_challenge')
    op.drop_table('fido_challenge')
    op.drop_index(op.f('ix_sso_state_expires_at'), table_name='sso_state')
    op.drop_table('sso_state')
    op.drop_index(op.f('ix_sso_identity_person_id'), table_name='sso_identity')
    op.drop_table('sso_identity')
