from __future__ import annotations

import asyncio

import httpx
import pytest

ADMIN = ("admin@studio.test", "correct horse battery")


@pytest.fixture(scope="session")
async def client(infra, make_database, smtp_sink):  # type: ignore[no-untyped-def]
    from slate_common.db import transaction

    from slate_auth.config import AuthSettings
    from slate_auth.domain.identity import create_admin
    from slate_auth.main import create_app

    app = create_app(AuthSettings(database_url=make_database("auth", migrate=True), smtp_port=smtp_sink.port,
                                  public_url="https://kitsu.studio.test",
                                  # Every test logs in from the one test client address;
                                  # the login guard has its own tests (test_login_guard).
                                  login_pair_free_failures=1000, login_account_free_failures=1000,
                                  login_address_max_failures=100_000, login_requests_per_window=100_000))
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


async def make_person(client, email: str, password: str | None = "initial password", role: str = "user",
                      **fields):  # type: ignore[no-untyped-def]
    """A person created straight in auth's database (with a password)."""
    from slate_common.db import transaction

    from slate_auth.domain.passwords import hash_password
    from slate_auth.models import Person

    async with transaction(client.app.state.runtime.sessionmaker) as session:
        person = Person(first_name=email.split("@")[0].title(), last_name="Test", email=email, role=role,
                        password=hash_password(password) if password else None, **fields)
        session.add(person)
    return person


async def login_headers(client, email: str, password: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = await client.post("/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    client.cookies.clear()  # the shared client would otherwise carry this login's cookies
    return {"Authorization": f"Bearer {r.json()['access_token']}"}
