"""Pooled connections the server closed are replaced at checkout, without a ping."""

from __future__ import annotations

import asyncio

import asyncpg
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from slate_common.db import make_engine, make_sessionmaker, transaction


async def test_a_connection_closed_by_the_server_is_replaced_not_failed(make_database, infra) -> None:  # type: ignore[no-untyped-def]
    url = make_database("pool")
    engine = make_engine(url, pool_size=2, max_overflow=0)
    sessions = make_sessionmaker(engine)
    try:
        async with transaction(sessions) as s:
            first = await s.scalar(text("SELECT pg_backend_pid()"))
        # the server ends every connection to the database (a restart, a failover)
        admin = await asyncpg.connect(infra.postgres_dsn)
        try:
            ended = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1",
                make_url(url).database)
        finally:
            await admin.close()
        assert ended >= 1
        await asyncio.sleep(0.3)  # the closed socket reaches the client
        statements: list[str] = []
        event.listen(engine.sync_engine, "before_cursor_execute",
                     lambda conn, cursor, statement, *a: statements.append(statement))
        async with transaction(sessions) as s:  # no error: the dead connection was replaced
            second = await s.scalar(text("SELECT pg_backend_pid()"))
        assert second != first
        assert statements == ["SELECT pg_backend_pid()"]  # and no ping ran before the query
    finally:
        await engine.dispose()
