"""End-to-end: the whole suite booted on the embedded stack, driven over HTTP through
the gateway the way Kitsu and gazu do."""

from __future__ import annotations

import itertools
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from slate_common.testing import eventually

# The differential test compares whole-studio listings (an admin's tasks to check, their
# filter values…) with Zou's recorded answers for a fresh studio, so it must see the shared
# stack before any other test has written to it: it runs first among the e2e tests.
FIRST_ON_A_FRESH_STACK = ("test_zou_differential.py",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    e2e = [i for i, item in enumerate(items) if here in item.path.parents]
    first = [item for item in items if item.path.name in FIRST_ON_A_FRESH_STACK]
    if first and e2e:
        rest = [item for item in items if item.path.name not in FIRST_ON_A_FRESH_STACK]
        at = e2e[0]
        items[:] = rest[:at] + first + rest[at:]


@pytest.fixture(scope="session")
def stack(slate_stack):  # type: ignore[no-untyped-def]
    return slate_stack


class AcrossGateways(httpx.AsyncBaseTransport):
    """Sends each request for the first gateway to the next gateway replica in turn, as a
    load balancer in front of several gateways would, but per request rather than per
    connection: a client's write and its very next read go through different gateways.
    Requests for other addresses (a service called directly) go where they are sent."""

    def __init__(self, gateway_urls: list[str], **transport: Any) -> None:
        self.inner = httpx.AsyncHTTPTransport(**transport)
        self.first = httpx.URL(gateway_urls[0])
        self.ports = itertools.cycle([httpx.URL(url).port for url in gateway_urls])

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if (url.host, url.port) == (self.first.host, self.first.port):
            port = next(self.ports)
            request.url = url.copy_with(port=port)
            request.headers["Host"] = f"{url.host}:{port}"
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def gateway_client(stack: Any, path: str = "/api", *, limits: httpx.Limits | None = None,
                   **kwargs: Any) -> httpx.AsyncClient:
    """A client of ``stack``'s gateway (``path`` under it) that spreads its requests over
    every gateway replica (SLATE_GATEWAY_REPLICAS / SLATE_REPLICAS)."""
    transport = AcrossGateways(stack.gateway_urls, limits=limits or httpx.Limits())
    return httpx.AsyncClient(base_url=stack.gateway_url + path, transport=transport, **kwargs)


@pytest.fixture
async def api(stack):  # type: ignore[no-untyped-def]
    async with gateway_client(stack, timeout=30) as client:
        yield client


async def login(api: httpx.AsyncClient, email: str, password: str) -> dict[str, Any]:
    r = await api.post("/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


@pytest.fixture
async def admin(api, stack):  # type: ignore[no-untyped-def]
    body = await login(api, stack.admin_email, stack.admin_password)
    return {"Authorization": f"Bearer {body['access_token']}"}


async def db_fetch(stack: Any, database: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    dsn = stack.infra.postgres_dsn.rsplit("/", 1)[0] + "/" + database
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


async def asset_task(api: httpx.AsyncClient, headers: dict[str, str], project_name: str) -> tuple[dict, dict]:
    """A new project with one Character asset and one asset task on it, made through the
    public API: answers (task, the first task status), what a review test starts from."""
    project = (await api.post("/data/projects", json={"name": f"{project_name} {uuid.uuid4().hex[:6]}"},
                              headers=headers)).json()
    types = (await api.get("/data/entity-types", headers=headers)).json()
    asset_type = next(t for t in types if t["name"] == "Character")
    r = await api.post("/data/entities", json={"name": "hero", "project_id": project["id"],
                                                "entity_type_id": asset_type["id"]}, headers=headers)
    assert r.status_code == 201, r.text
    asset = r.json()
    task_types = (await api.get("/data/task-types", headers=headers)).json()
    task_type = next(t for t in task_types if t["for_entity"] == "Asset")
    r = await api.post(f"/data/projects/{project['id']}/settings/task-types", json={"task_type_id": task_type["id"]},
                       headers=headers)
    assert r.status_code == 201, r.text
    r = await api.post(f"/data/entities/{asset['id']}/tasks", json={"task_type_ids": [task_type["id"]]},
                       headers=headers)
    assert r.status_code == 201, r.text
    [task] = r.json()
    status = (await api.get("/data/task-status", headers=headers)).json()[0]
    return task, status


async def refused_everywhere_within_a_second(api: httpx.AsyncClient, headers: dict[str, str]) -> None:
    """The token in ``headers`` is refused as revoked by production and by auth, within 1 s."""
    started = time.monotonic()

    async def refused() -> bool:
        a = await api.get("/data/projects", headers=headers)  # production
        b = await api.get("/auth/authenticated", headers=headers)  # auth
        return a.status_code == 401 and b.status_code == 401 and a.json()["msg"] == "Token has been revoked"

    await eventually(refused, timeout=1.0, interval=0.02)
    assert time.monotonic() - started < 1.0
