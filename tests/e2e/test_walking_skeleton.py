"""The thin vertical through every part: gateway -> auth -> production -> NATS -> planning."""

from __future__ import annotations

import time
import uuid

import httpx

from slate_common.testing import eventually

from .conftest import db_fetch, login


async def test_login_then_projects_through_the_gateway(api, stack) -> None:  # type: ignore[no-untyped-def]
    body = await login(api, stack.admin_email, stack.admin_password)
    assert body["user"]["role"] == "admin"
    r = await api.get("/data/projects", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert r.status_code == 200 and isinstance(r.json(), list)
    # The same routes answer at the root, as Zou serves them.
    async with httpx.AsyncClient(base_url=stack.gateway_url) as root:
        r = await root.get("/data/projects/open", headers={"Authorization": f"Bearer {body['access_token']}"})
        assert r.status_code == 200
        r = await root.get("/data/no-such-model")
        assert r.status_code == 404 and r.json()["error"] is True


async def test_project_new_reaches_planning_replica(api, admin, stack) -> None:  # type: ignore[no-untyped-def]
    name = f"Replicated {uuid.uuid4().hex[:6]}"
    r = await api.post("/data/projects", json={"name": name}, headers=admin)
    assert r.status_code == 201
    pid = uuid.UUID(r.json()["id"])
    rows = await db_fetch(stack, "slate_planning", "select name from project_replica where id=$1", pid)
    assert rows[0]["name"] == name  # applied before production answered
    r = await api.put(f"/data/projects/{pid}", json={"name": name + " v2"}, headers=admin)
    assert r.status_code == 200

    rows = await db_fetch(stack, "slate_planning", "select name from project_replica where id=$1", pid)
    assert rows[0]["name"] == name + " v2"


async def test_logout_is_refused_by_every_service_within_a_second(api, stack) -> None:  # type: ignore[no-untyped-def]
    body = await login(api, stack.admin_email, stack.admin_password)
    h = {"Authorization": f"Bearer {body['access_token']}"}
    assert (await api.get("/data/projects", headers=h)).status_code == 200
    assert (await api.get("/auth/logout", headers=h)).status_code == 200
    started = time.monotonic()

    async def refused():  # type: ignore[no-untyped-def]
        r = await api.get("/data/projects", headers=h)
        return r.status_code == 401 and r.json()["msg"] == "Token has been revoked"

    await eventually(refused, timeout=1.0, interval=0.02)
    assert time.monotonic() - started < 1.0
    assert (await api.get("/auth/authenticated", headers=h)).status_code == 401
    r = await api.get("/auth/refresh-token", headers={"Authorization": f"Bearer {body['refresh_token']}"})
    assert r.status_code == 401


async def test_refresh_token_flow_through_gateway(api, stack) -> None:  # type: ignore[no-untyped-def]
    body = await login(api, stack.admin_email, stack.admin_password)
    r = await api.get("/auth/refresh-token", headers={"Authorization": f"Bearer {body['refresh_token']}"})
    assert r.status_code == 200
    r = await api.get("/data/projects", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    assert r.status_code == 200
