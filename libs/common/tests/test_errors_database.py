"""A database that is not reachable is a 503 (try again), a wrong statement a 400."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url

from slate_common.db import make_engine, make_sessionmaker
from slate_common.errors import DATABASE_UNAVAILABLE, INVALID_TEXT, TRANSACTION_CONFLICT, install_error_handlers
from slate_common.stack import free_port


def _app(url: str) -> tuple[FastAPI, Any]:
    engine = make_engine(url, pool_size=1, max_overflow=0)
    sessions = make_sessionmaker(engine)
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/query/{sql}")
    async def query(sql: str) -> Any:
        async with sessions() as session:
            return {"value": await session.scalar(text(sql))}

    @app.get("/text")
    async def text_value() -> Any:
        """A string with a lone surrogate, as a JSON body may carry one, bound to a statement."""
        async with sessions() as session:
            return {"value": await session.scalar(text("SELECT CAST(:v AS text)"), {"v": "a\udbfbb"})}

    @app.get("/ended-mid-transaction")
    async def ended() -> Any:
        """The server ends this connection between two statements (PostgreSQL killed)."""
        async with sessions() as session:
            pid = await session.scalar(text("SELECT pg_backend_pid()"))
            admin = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
            try:
                await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
            finally:
                await admin.close()
            return {"value": await session.scalar(text("SELECT 1"))}

    return app, engine


async def _get(app: FastAPI, path: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        return await client.get(path)


async def test_a_connection_ended_by_the_server_is_a_503(make_database) -> None:  # type: ignore[no-untyped-def]
    app, engine = _app(make_database("errors"))
    try:
        r = await _get(app, "/ended-mid-transaction")
        assert r.status_code == 503, r.text
        assert r.json() == {"error": True, "message": DATABASE_UNAVAILABLE}
        r = await _get(app, "/query/SELECT 2")  # and the next request gets a new connection
        assert r.status_code == 200 and r.json() == {"value": 2}
        r = await _get(app, "/query/SELECT nothing FROM no_such_table")  # the statement's fault
        assert r.status_code == 400 and r.json()["message"] == "Statement error"
        r = await _get(app, "/text")  # text UTF-8 cannot encode: the value's fault, said so
        assert r.status_code == 400 and r.json() == {"error": True, "message": INVALID_TEXT}
        for code in ("40P01", "40001"):  # a deadlock, a serialization failure: not the request's fault
            r = await _get(app, f"/query/DO $$ BEGIN RAISE EXCEPTION 'in the way' USING ERRCODE = '{code}'; END $$")
            assert r.status_code == 503 and r.json() == {"error": True, "message": TRANSACTION_CONFLICT}
    finally:
        await engine.dispose()


async def test_a_server_not_listening_is_a_503(make_database) -> None:  # type: ignore[no-untyped-def]
    url = make_url(make_database("errors")).set(port=free_port()).render_as_string(hide_password=False)
    app, engine = _app(url)
    try:
        r = await _get(app, "/query/SELECT 1")
        assert r.status_code == 503, r.text
        assert r.json()["error"] is True
    finally:
        await engine.dispose()
