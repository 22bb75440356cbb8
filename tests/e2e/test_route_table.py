"""The route-table contract: what each service declares is Zou's route, owned by it
(``routes.tsv``, a copy of the reference list), and the gateway serves all of it."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import httpx

ROUTES = Path(__file__).with_name("routes.tsv")
METHODS = {"get", "post", "put", "delete", "patch"}
# Each issue adds to this; these must never silently disappear (a router that fails to load).
REQUIRED = {
    ("POST", "/auth/login"), ("GET", "/auth/authenticated"), ("GET", "/auth/logout"),
    ("GET", "/auth/refresh-token"), ("GET", "/data/projects"), ("POST", "/data/projects"),
    ("GET", "/data/projects/{}"), ("PUT", "/data/projects/{}"), ("DELETE", "/data/projects/{}"),
    ("GET", "/data/projects/open"), ("GET", "/"), ("GET", "/config"),
    # the comment flow (issue 4)
    ("POST", "/actions/tasks/{}/comment"), ("GET", "/data/tasks/{}/comments"), ("GET", "/data/comments/{}"),
    ("POST", "/data/tasks/{}/comments/{}/reply"), ("POST", "/data/tasks/{}/comments/{}/ack"),
    ("GET", "/data/user/notifications"), ("PUT", "/data/user/notifications/{}"),
    ("POST", "/actions/user/notifications/mark-all-as-read"), ("POST", "/actions/user/tasks/{}/subscribe"),
    ("GET", "/data/user/filters"), ("GET", "/data/user/tasks-to-check"), ("GET", "/data/projects/{}/news"),
}


def norm(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path).rstrip("/") or "/"


def reference() -> dict[tuple[str, str], str]:
    with ROUTES.open() as f:
        return {(r["method"], norm(r["path"])): r["service"] for r in csv.DictReader(f, delimiter="\t")}


def declared(spec: dict) -> set[tuple[str, str]]:  # type: ignore[type-arg]
    return {(m.upper(), norm(p)) for p, ops in spec["paths"].items() for m in ops if m in METHODS}


async def test_each_service_declares_only_its_own_zou_routes(stack) -> None:  # type: ignore[no-untyped-def]
    owners = reference()
    async with httpx.AsyncClient(timeout=10) as client:
        for service, url in stack.service_urls.items():
            spec = (await client.get(url + "/openapi.json")).json()
            for route in declared(spec):
                assert route in owners, f"{service} declares {route}, which Zou 1.0.97 does not have"
                assert owners[route] == service, f"{route} belongs to {owners[route]}, not {service}"


async def test_gateway_serves_every_declared_route(stack) -> None:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(timeout=10) as client:
        aggregated = declared((await client.get(stack.gateway_url + "/api/openapi.json")).json())
        for url in stack.service_urls.values():
            own = declared((await client.get(url + "/openapi.json")).json())
            assert own <= {(m, re.sub(r"^/api(?=/)", "", p)) for m, p in aggregated}
    served = {(m, re.sub(r"^/api(?=/)", "", p)) for m, p in aggregated}
    assert REQUIRED <= served, sorted(REQUIRED - served)


async def test_every_auth_route_is_served(stack) -> None:  # type: ignore[no-untyped-def]
    """Issue 3: all of auth's routes of the reference answer through the gateway."""
    async with httpx.AsyncClient(timeout=10) as client:
        aggregated = declared((await client.get(stack.gateway_url + "/api/openapi.json")).json())
    served = {(m, re.sub(r"^/api(?=/)", "", p)) for m, p in aggregated}
    wanted = {route for route, service in reference().items() if service == "auth"}
    assert len(wanted) == 57 and wanted <= served, sorted(wanted - served)
