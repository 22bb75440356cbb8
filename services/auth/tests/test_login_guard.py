"""Brute force: failures slowed and locked per account and address, counted in NATS KV
by every auth process; successful logins never limited. The guard's clock is moved by
the tests (nothing sleeps)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import replace
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher

from slate_common.testing import Clock

PASSWORD = "right password"
# Persons of these tests get a cheap argon2 hash (verification reads the cost from the
# hash): the guard is under test here, not the KDF's cost.
CHEAP_HASH = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)


async def _add_persons(app: Any, emails: list[str]) -> None:
    from slate_common.db import transaction

    from slate_auth.models import Person

    async with transaction(app.state.runtime.sessionmaker) as session:
        session.add_all(Person(first_name="Artist", last_name=str(i), email=email, role="user", password=CHEAP_HASH)
                        for i, email in enumerate(emails))


class Auth:
    """Auth processes (app instances) on one database and one NATS, with one clock."""

    def __init__(self, clients: list[httpx.AsyncClient], apps: list[Any], clock: Clock) -> None:
        self.clients, self.apps, self.clock = clients, apps, clock

    async def login(self, email: str, password: str = PASSWORD, *, ip: str, process: int = 0) -> httpx.Response:
        return await self.clients[process].post("/auth/login", json={"email": email, "password": password},
                                                headers={"x-forwarded-for": ip})


@pytest.fixture(scope="module")
def database(infra, make_database) -> str:  # type: ignore[no-untyped-def]
    return make_database("auth", migrate=True)  # type: ignore[no-any-return]


@pytest.fixture
async def auth(database: str, smtp_sink) -> AsyncIterator[Auth]:  # type: ignore[no-untyped-def]
    from slate_auth.config import AuthSettings
    from slate_auth.main import create_app

    bucket = f"slate_login_guard_{uuid.uuid4().hex[:8]}"  # this test's counts only
    clock = Clock()
    async with AsyncExitStack() as stack:
        apps, clients = [], []
        for _ in range(2):
            app = create_app(AuthSettings(database_url=database, login_guard_bucket=bucket, smtp_port=smtp_sink.port))
            await stack.enter_async_context(app.router.lifespan_context(app))
            await asyncio.wait_for(app.state.runtime.bus_ready.wait(), timeout=30)
            app.state.login_guard.clock = clock
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://auth")
            await stack.enter_async_context(client)
            apps.append(app)
            clients.append(client)
        yield Auth(clients, apps, clock)


@pytest.mark.slow
async def test_a_studio_behind_one_address_logs_in_without_refusal(auth: Auth) -> None:
    """300 artists behind one NAT address within a minute, 30 of them mistyping once."""
    emails = [f"artist{i}@studio.test" for i in range(300)]
    await _add_persons(auth.apps[0], emails)
    nat = "203.0.113.7"
    statuses = []
    for i, email in enumerate(emails):
        if i % 10 == 0:
            assert (await auth.login(email, "typo", ip=nat, process=i % 2)).status_code == 400
        statuses.append((await auth.login(email, ip=nat, process=i % 2)).status_code)
        auth.clock.advance(0.2)  # 330 attempts in 66 seconds
    assert statuses == [200] * 300


async def test_failures_in_two_processes_share_one_count(auth: Auth) -> None:
    await _add_persons(auth.apps[0], ["lock@studio.test"])
    statuses = [(await auth.login("lock@studio.test", "wrong", ip="198.51.100.1", process=i % 2)).status_code
                for i in range(5)]
    assert statuses == [400] * 5  # 3 in one process, 2 in the other: 5 for the pair
    for process in (0, 1):
        r = await auth.login("lock@studio.test", ip="198.51.100.1", process=process)
        assert r.status_code == 429, r.text
        assert r.headers["retry-after"] == "60" and r.json()["error"] is True and r.json()["login"] is False
    auth.clock.advance(61)
    assert (await auth.login("lock@studio.test", ip="198.51.100.1", process=1)).status_code == 200


async def test_the_pair_lock_grows_and_a_success_clears_it(auth: Auth) -> None:
    await _add_persons(auth.apps[0], ["grow@studio.test"])
    ip = "198.51.100.2"
    for _ in range(5):
        assert (await auth.login("grow@studio.test", "wrong", ip=ip)).status_code == 400
    assert (await auth.login("grow@studio.test", ip=ip)).headers["retry-after"] == "60"
    auth.clock.advance(60.5)
    assert (await auth.login("grow@studio.test", "wrong", ip=ip)).status_code == 400
    assert (await auth.login("grow@studio.test", ip=ip)).headers["retry-after"] == "120"
    auth.clock.advance(119)
    assert (await auth.login("grow@studio.test", ip=ip)).status_code == 429
    auth.clock.advance(1.5)
    assert (await auth.login("grow@studio.test", ip=ip)).status_code == 200
    # Cleared: five failures again before the next lock.
    for _ in range(4):
        assert (await auth.login("grow@studio.test", "wrong", ip=ip)).status_code == 400
    assert (await auth.login("grow@studio.test", ip=ip)).status_code == 200


async def test_a_guesser_does_not_lock_the_account_out_at_another_address(auth: Auth) -> None:
    await _add_persons(auth.apps[0], ["victim@studio.test"])
    home = "192.0.2.10"
    assert (await auth.login("victim@studio.test", ip=home)).status_code == 200  # the colleague's usual address
    for _ in range(6):
        await auth.login("victim@studio.test", "guess", ip="198.51.100.66")
    assert (await auth.login("victim@studio.test", ip="198.51.100.66")).status_code == 429  # the guesser is locked
    assert (await auth.login("victim@studio.test", ip=home)).status_code == 200  # the colleague is not
    assert (await auth.login("victim@studio.test", ip="192.0.2.11", process=1)).status_code == 200  # nor elsewhere


async def test_many_addresses_guessing_one_account_meet_a_growing_delay(auth: Auth) -> None:
    await _add_persons(auth.apps[0], ["target@studio.test"])
    known = "192.0.2.20"
    assert (await auth.login("target@studio.test", ip=known)).status_code == 200
    for i in range(10):  # a botnet: one guess per address, no pair ever locks
        assert (await auth.login("target@studio.test", "guess", ip=f"198.51.100.{100 + i}")).status_code == 400
    r = await auth.login("target@studio.test", "guess", ip="198.51.100.200", process=1)
    assert r.status_code == 429 and r.headers["retry-after"] == "1"
    auth.clock.advance(1.1)
    assert (await auth.login("target@studio.test", "guess", ip="198.51.100.201")).status_code == 400
    assert (await auth.login("target@studio.test", "guess", ip="198.51.100.202")).headers["retry-after"] == "2"
    # The account's own person, at an address it logged in from, is not delayed.
    assert (await auth.login("target@studio.test", ip=known, process=1)).status_code == 200


@pytest.mark.slow
async def test_spraying_from_one_address_is_refused_on_accounts_it_does_not_know(auth: Auth) -> None:
    for app in auth.apps:
        app.state.login_guard.policy = replace(app.state.login_guard.policy, address_max_failures=12)
    await _add_persons(auth.apps[0], ["regular@studio.test", "fresh@studio.test"])
    ip = "198.51.100.9"
    assert (await auth.login("regular@studio.test", ip=ip)).status_code == 200
    for i in range(12):  # unknown accounts count like real ones
        assert (await auth.login(f"user{i}@studio.test", "Summer2026!", ip=ip, process=i % 2)).status_code == 400
    r = await auth.login("fresh@studio.test", ip=ip)
    assert r.status_code == 429 and 590 <= int(r.headers["retry-after"]) <= 600
    assert (await auth.login("regular@studio.test", ip=ip, process=1)).status_code == 200
    auth.clock.advance(601)
    assert (await auth.login("fresh@studio.test", ip=ip)).status_code == 200


async def test_mail_requests_are_counted_per_address_and_account(auth: Auth) -> None:
    await _add_persons(auth.apps[0], ["forgetful@studio.test"])
    body = {"email": "forgetful@studio.test"}
    statuses = [(await auth.clients[i % 2].post("/auth/reset-password", json=body,
                                                headers={"x-forwarded-for": "192.0.2.30"})).status_code
                for i in range(11)]
    assert statuses == [200] * 10 + [429]
    assert (await auth.clients[0].post("/auth/reset-password", json=body,
                                       headers={"x-forwarded-for": "192.0.2.31"})).status_code == 200
    auth.clock.advance(601)
    assert (await auth.clients[1].post("/auth/reset-password", json=body,
                                       headers={"x-forwarded-for": "192.0.2.30"})).status_code == 200


async def test_the_bucket_holds_no_email_or_address(auth: Auth) -> None:
    await _add_persons(auth.apps[0], ["private@studio.test"])
    await auth.login("private@studio.test", "wrong", ip="198.51.100.77")
    await auth.login("private@studio.test", ip="198.51.100.77")
    guard = auth.apps[0].state.login_guard
    for store in guard._shared:
        keys = await store.kv.keys()
        assert keys
        for key in keys:
            entry = await store.kv.get(key)
            text = key + entry.value.decode()
            assert "studio.test" not in text and "198.51.100" not in text
