"""Pooled connections the server closed are replaced at checkout, without a ping."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
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


async def _in_transaction(engine, session) -> bool:  # type: ignore[no-untyped-def]
    """Whether ``session`` is inside a transaction: the lock its read of ``item`` takes is
    then held after the statement, as another connection sees."""
    pid = await session.scalar(text("SELECT pg_backend_pid()"))
    await session.scalar(text("SELECT count(*) FROM item"))
    async with engine.connect() as other:
        other = await other.execution_options(isolation_level="AUTOCOMMIT")
        held = await other.scalar(text(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE l.pid = :pid AND c.relname = 'item'"), {"pid": pid})
    return bool(held)


async def test_reads_go_without_begin_until_the_first_write(make_database) -> None:  # type: ignore[no-untyped-def]
    """A GET's session (begin_at_first_write): plain reads run on their own (no BEGIN,
    no COMMIT); the first write opens the transaction, which then holds the rest and is
    atomic; the pooled connection goes back to transactions for its next session."""
    from slate_common.db import begin_at_first_write

    engine = make_engine(make_database("deferred"), pool_size=2, max_overflow=0)
    sessions = make_sessionmaker(engine)
    try:
        async with transaction(sessions) as s:
            await s.execute(text("CREATE TABLE item (n int)"))
            await s.execute(text("INSERT INTO item VALUES (1)"))
        async with transaction(sessions) as s:  # a usual session: every statement in one transaction
            assert await _in_transaction(engine, s) is True

        async with sessions() as s, s.begin():
            await begin_at_first_write(s)
            assert await _in_transaction(engine, s) is False  # reads on their own
            assert await s.scalar(text("SELECT count(*) FROM item")) == 1
            assert await _in_transaction(engine, s) is False
        try:
            async with sessions() as s, s.begin():
                await begin_at_first_write(s)
                await s.execute(text("INSERT INTO item VALUES (2)"))  # BEGIN goes out before it
                assert await _in_transaction(engine, s) is True  # later reads are in the transaction
                raise RuntimeError("the handler fails after its write")
        except RuntimeError:
            pass
        for _ in range(2):  # the second time, the statements' verdicts come from the cache
            async with sessions() as s, s.begin():
                await begin_at_first_write(s)
                assert await s.scalar(text("SELECT count(*) FROM item")) == 1  # the write was rolled back
                assert await _in_transaction(engine, s) is False
                # a row lock, an advisory transaction lock: they start the transaction too
                await s.execute(text("SELECT n FROM item FOR UPDATE"))
                assert await _in_transaction(engine, s) is True
        async with sessions() as s, s.begin():
            await begin_at_first_write(s)
            await s.scalar(text("SELECT pg_advisory_xact_lock(42)"))
            assert await _in_transaction(engine, s) is True
        async with sessions() as s, s.begin():
            await begin_at_first_write(s)
            await s.execute(text("INSERT INTO item VALUES (3)"))
        for _ in range(2):  # committed; and both pooled connections are back to transactions
            async with transaction(sessions) as s:
                assert await s.scalar(text("SELECT count(*) FROM item")) == 2
                assert await _in_transaction(engine, s) is True
    finally:
        await engine.dispose()


async def test_a_compiled_read_answers_what_session_execute_answers(make_database) -> None:  # type: ignore[no-untyped-def]
    """CompiledRead runs a statement built once through asyncpg directly: the same rows as
    session.execute (literal values the statement holds, parameters by name, JSON and
    UUID columns), pending ORM changes flushed first as autoflush does, inside the
    session's transaction once it has one; plain SELECTs only; a failing read is run again
    through the session, which raises SQLAlchemy's error."""
    import uuid

    from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, any_, bindparam, exc, func, literal, select
    from sqlalchemy.dialects.postgresql import ARRAY
    from sqlalchemy.dialects.postgresql import UUID as PG_UUID

    from slate_common.db import CompiledRead

    metadata = MetaData()
    thing = Table("thing", metadata, Column("id", PG_UUID(as_uuid=True), primary_key=True),
                  Column("n", Integer), Column("name", String), Column("data", JSON))
    engine = make_engine(make_database("compiled"), pool_size=2, max_overflow=0)
    sessions = make_sessionmaker(engine)
    ids = [uuid.uuid4() for _ in range(3)]
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
            await conn.execute(thing.insert(), [{"id": i, "n": k, "name": f"t{k}", "data": {"k": [k]}}
                                                for k, i in enumerate(ids)])
        stmt = (select(thing.c.id, thing.c.name, thing.c.data, literal("x").label("tag"),
                       func.coalesce(thing.c.name, literal("none")))
                .where(thing.c.n >= bindparam("least", type_=Integer), thing.c.name != "nobody")
                .order_by(thing.c.n))
        read = CompiledRead(stmt)
        async with transaction(sessions) as s:
            expected = (await s.execute(stmt, {"least": 1})).all()
            got = await read.all(s, least=1)
            assert [tuple(r) for r in got] == [tuple(r) for r in expected]
            assert got[0][0] == ids[1] and got[0][2] == {"k": [1]} and got[0][3] == "x"
            assert await read.first(s, least=5) is None
            # an ANY over an array parameter (IN lists are refused, below)
            some = CompiledRead(select(thing.c.n).where(thing.c.id == any_(bindparam("ids", type_=ARRAY(PG_UUID(as_uuid=True)))))
                                .order_by(thing.c.n))
            assert [r[0] for r in await some.all(s, ids=[ids[2], ids[0]])] == [0, 2]
            # written in this transaction: seen, as the session's own reads see it
            await s.execute(thing.insert().values(id=uuid.uuid4(), n=7, name="t7", data={}))
            assert [r[1] for r in await read.all(s, least=5)] == ["t7"]
        async with transaction(sessions) as s:
            assert [r[1] for r in await read.all(s, least=5)] == ["t7"]  # committed
        with pytest.raises(ValueError, match="plain SELECT"):
            async with transaction(sessions) as s:
                await CompiledRead(select(thing.c.id).with_for_update()).all(s)
        with pytest.raises(ValueError, match="expanding"):
            async with transaction(sessions) as s:
                await CompiledRead(select(thing.c.id).where(thing.c.id.in_(bindparam("ids", expanding=True)))).all(s, ids=ids)
        with pytest.raises(exc.DBAPIError):  # the driver's error, raised as SQLAlchemy's by the session
            async with transaction(sessions) as s:
                await CompiledRead(select(thing.c.id).where(thing.c.n == bindparam("n", type_=Integer))).all(s, n=2**40)
    finally:
        await engine.dispose()


async def test_the_plan_cache_mode_reaches_every_connection(make_database) -> None:  # type: ignore[no-untyped-def]
    """An engine made with force_generic_plan (production's) plans its prepared statements
    once on each connection; the default leaves PostgreSQL's own choice."""
    url = make_database("plans")
    generic = make_engine(url, pool_size=2, max_overflow=0, plan_cache_mode="force_generic_plan")
    default = make_engine(url, pool_size=2, max_overflow=0)
    try:
        for engine, expected in ((generic, "force_generic_plan"), (default, "auto")):
            async with engine.connect() as first, engine.connect() as second:  # two pooled connections
                for conn in (first, second):
                    assert (await conn.execute(text("SHOW plan_cache_mode"))).scalar() == expected
    finally:
        await generic.dispose()
        await default.dispose()
