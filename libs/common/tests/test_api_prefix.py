"""A service answers a public path under /api as it does at the root (as the gateway does)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI, Request

from slate_common.api_prefix import ApiPrefixMiddleware


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/data/persons/{person_id}")
    async def person(person_id: str, request: Request) -> dict[str, str]:
        return {"id": person_id, "path": request.url.path}

    @app.get("/")
    async def index() -> dict[str, str]:
        return {"at": "root"}

    app.add_middleware(ApiPrefixMiddleware)
    return app


async def test_api_prefixed_paths_reach_the_same_route() -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://svc") as client:
        root = await client.get("/data/persons/p1")
        prefixed = await client.get("/api/data/persons/p1?x=1")
        bare = await client.get("/api")
        lookalike = await client.get("/apidata/persons/p1")
    assert root.json() == {"id": "p1", "path": "/data/persons/p1"}
    assert prefixed.status_code == 200
    assert prefixed.json() == {"id": "p1", "path": "/data/persons/p1"}
    assert bare.json() == {"at": "root"}
    assert lookalike.status_code == 404  # only a whole /api segment is a prefix


def test_every_service_app_strips_the_prefix() -> None:
    from slate_common.app import create_service_app
    from slate_common.config import BaseServiceSettings

    class Settings(BaseServiceSettings):
        service_name = "planning"

    app = create_service_app(Settings(), title="probe", routers=[])
    assert ApiPrefixMiddleware in [m.cls for m in app.user_middleware]
