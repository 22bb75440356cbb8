"""``migrate`` runs under a PostgreSQL advisory lock: pods that start together (an
initContainer running ``slate migrate`` in each) migrate one after the other."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import asyncpg
import pytest

from slate_common.db import migrate_locked, migration_lock_key

ENV_PY = """
from sqlalchemy import MetaData
from slate_common.migrations import run_env
run_env(MetaData())
"""

# A slow first revision: without the lock, two migrators would both create the table.
REVISION = '''
"""probe"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("SELECT pg_sleep(0.5)")
    op.create_table("lock_probe", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade() -> None:
    op.drop_table("lock_probe")
'''


@pytest.fixture
def migrations_dir(tmp_path: Path) -> Path:
    (tmp_path / "versions").mkdir()
    (tmp_path / "env.py").write_text(ENV_PY)
    (tmp_path / "versions" / "0001_probe.py").write_text(REVISION)
    return tmp_path


@pytest.fixture
async def fresh_url(infra):  # type: ignore[no-untyped-def]
    name = "slate_locktest_" + uuid.uuid4().hex[:10]
    yield f"{infra.postgres_url.rstrip('/')}/{name}", name
    admin = await asyncpg.connect(infra.postgres_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def test_replicas_migrating_together_create_and_migrate_once(migrations_dir, fresh_url, infra) -> None:  # type: ignore[no-untyped-def]
    url, name = fresh_url
    results = await asyncio.gather(*(migrate_locked(url, migrations_dir) for _ in range(3)))
    assert sorted(results) == [False, False, True]  # one created the database, none failed
    conn = await asyncpg.connect(infra.postgres_dsn.rsplit("/", 1)[0] + "/" + name)
    try:
        assert await conn.fetchval("SELECT version_num FROM alembic_version") == "0001"
        assert await conn.fetchval("SELECT to_regclass('lock_probe')::text") == "lock_probe"
    finally:
        await conn.close()


async def test_migrate_waits_while_another_holds_the_lock(migrations_dir, fresh_url, infra) -> None:  # type: ignore[no-untyped-def]
    url, name = fresh_url
    holder = await asyncpg.connect(infra.postgres_dsn)
    waited: list[bool] = []
    try:
        await holder.execute("SELECT pg_advisory_lock($1)", migration_lock_key(name))
        task = asyncio.create_task(migrate_locked(url, migrations_dir, on_wait=lambda: waited.append(True)))
        await asyncio.sleep(1.0)
        assert waited == [True]
        assert not task.done()
        exists = await holder.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        assert exists is None  # nothing happened while the lock was held
        await holder.execute("SELECT pg_advisory_unlock($1)", migration_lock_key(name))
        assert await asyncio.wait_for(task, 30) is True
    finally:
        await holder.close()


def test_lock_key_is_stable_and_per_database() -> None:
    assert migration_lock_key("slate_auth") == migration_lock_key("slate_auth")
    assert migration_lock_key("slate_auth") != migration_lock_key("slate_media")
    assert -(2**63) <= migration_lock_key("slate_auth") < 2**63
