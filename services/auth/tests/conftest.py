from __future__ import annotations

import asyncio

import httpx
import pytest

ADMIN = ("admin@studio.test", "correct horse battery")


@pytest.fixture(scope="session")
async def client(infra, make_database):  # type: ignore[no-untyped-def]
    from slate_auth.config import AuthSettings
    from slate_auth.domain.identity import create_admin
    from slate_auth.main import create_app
    from slate_common.db import transaction

    app = create_app(AuthSettings(database_url=make_database("auth", migrate=True)))
    async with app.router.lifespan_context(app):
        async with transaction(app.state.runtime.sessionmaker) as session:
            await create_admin(session, email=ADMIN[0], password=ADMIN[1])
        await asyncio.wait_for(app.state.runtime.bus_ready.wait(), timeout=30)  # NATS connects in the background
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://auth") as c:
            c.app = app  # type: ignore[attr-defined]
            yield c


@pytest.fixture
async def tokens(client):  # type: ignore[no-untyped-def]
    r = await client.post("/auth/login", json={"email": ADMIN[0], "password": ADMIN[1]})
    assert r.status_code == 200, r.text
    return r.json()
