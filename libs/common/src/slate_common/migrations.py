"""Alembic glue shared by every service's ``migrations/env.py``.

    from slate_common.migrations import run_env
    from slate_auth.models import Base
    run_env(Base.metadata)   # the outbox and inbox tables are added here
"""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy import MetaData, pool
from sqlalchemy.ext.asyncio import create_async_engine


def _do_run(connection: Any, metadata: MetaData) -> None:
    context.configure(connection=connection, target_metadata=_targets(metadata), compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str, metadata: MetaData) -> None:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    async with engine.connect() as conn:
        await conn.run_sync(_do_run, metadata)
    await engine.dispose()


def _targets(metadata: MetaData) -> list[MetaData]:
    from .db import EVENTS_METADATA

    return [metadata, EVENTS_METADATA]


def run_env(metadata: MetaData) -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is not set"
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=_targets(metadata), literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_async(url, metadata))


def create_event_tables() -> None:
    """The outbox and inbox every service has (its first migration calls this).
    Keep in step with :mod:`slate_common.events.models`; a later change to them comes
    as a new migration in each service."""
    import sqlalchemy as sa
    from alembic import op
    from sqlalchemy.dialects import postgresql

    op.create_table(
        "inbox_event",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("consumer", sa.String(length=120), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("processed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", "consumer", name=op.f("pk_inbox_event")),
    )
    op.create_table(
        "outbox_event",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("headers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_outbox_event")),
        sa.UniqueConstraint("id", name=op.f("uq_outbox_event_id")),
    )
    op.create_index(
        "ix_outbox_event_pending", "outbox_event", ["seq"], unique=False,
        postgresql_where=sa.text("published_at IS NULL"),
    )


def drop_event_tables() -> None:
    from alembic import op

    op.drop_index("ix_outbox_event_pending", table_name="outbox_event")
    op.drop_table("outbox_event")
    op.drop_table("inbox_event")
