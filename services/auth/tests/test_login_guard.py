"""Brute force: lockout after repeated failures, per-IP rate limit (configurable)."""

from __future__ import annotations

import asyncio

import httpx
import pytest


@pytest.fixture(scope="module")
async def guarded(infra, make_database):  # type: ignore[no-untyped-def]
    from slate_auth.config import AuthSettings
    from slate_auth.domain.identity import create_admin
    from slate_auth.main import create_app
    from slate_common.db import transaction

    settings = AuthSettings(database_url=make_database("auth", migrate=True), login_max_failures=3,
                            login_lock_seconds=2, login_rate_per_minute=8)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with transaction(app.state.runtime.sessionmaker) as session:
            await create_admin(session, email="lock@studio.test", password="right password")
            await create_admin(session, email="other@studio.test", password="other password")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://auth") as c:
            yield c


async def test_account_locks_after_failures_then_unlocks(guarded) -> None:  # type: ignore[no-untyped-def]
    ip = {"x-forwarded-for": "10.0.0.1"}
    good = {"email": "lock@studio.test", "password": "right password"}
    bad = {"email": "lock@studio.test", "password": "wrong"}
    for _ in range(3):
        r = await guarded.post("/auth/login", json=bad, headers=ip)
        assert r.status_code == 400
    r = await guarded.post("/auth/login", json=good, headers=ip)
    assert r.status_code == 400 and r.json() == {"login": False, "message": "Wrong email or password."}
    # Another account is not affected.
    assert (await guarded.post("/auth/login", json={"email": "other@studio.test", "password": "other password"},
                               headers=ip)).status_code == 200
    await asyncio.sleep(2.2)
    r = await guarded.post("/auth/login", json=good, headers=ip)
    assert r.status_code == 200 and r.json()["login"] is True


async def test_login_attempts_are_rate_limited_per_ip(guarded) -> None:  # type: ignore[no-untyped-def]
    creds = {"email": "other@studio.test", "password": "other password"}
    statuses = [(await guarded.post("/auth/login", json=creds, headers={"x-forwarded-for": "10.0.0.2"})).status_code
                for _ in range(9)]
    assert statuses == [200] * 8 + [429]
    r = await guarded.post("/auth/login", json=creds, headers={"x-forwarded-for": "10.0.0.2"})
    assert r.status_code == 429 and r.headers["retry-after"] == "60" and r.json()["error"] is True
    # The gateway appends the real address last: a client cannot dodge the limit by
    # sending its own X-Forwarded-For first.
    r = await guarded.post("/auth/login", json=creds, headers={"x-forwarded-for": "1.2.3.4, 10.0.0.2"})
    assert r.status_code == 429
    assert (await guarded.post("/auth/login", json=creds, headers={"x-forwarded-for": "10.0.0.3"})).status_code == 200
