"""The services' side of SLATE_TRUSTED_PROXIES: client address and scheme per request."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from slate_common.forwarded import ForwardedMiddleware


async def whoami(request: Request) -> JSONResponse:
    return JSONResponse({"ip": request.client.host if request.client else None,
                         "scheme": request.url.scheme})


def client(peer: str) -> httpx.AsyncClient:
    app = ForwardedMiddleware(Starlette(routes=[Route("/", whoami)]), "127.0.0.1, 10.0.0.0/8")
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(peer, 4711)),
                             base_url="http://svc")


async def test_trusted_peer_reports_the_first_untrusted_hop() -> None:
    async with client("10.1.0.5") as c:
        r = await c.get("/", headers={"x-forwarded-for": "6.6.6.6, 198.51.100.7, 10.0.0.2",
                                      "x-forwarded-proto": "https"})
    assert r.json() == {"ip": "198.51.100.7", "scheme": "https"}


async def test_untrusted_peer_cannot_set_its_address_or_scheme() -> None:
    async with client("203.0.113.9") as c:
        r = await c.get("/", headers={"x-forwarded-for": "10.0.0.2", "x-forwarded-proto": "https"})
    assert r.json() == {"ip": "203.0.113.9", "scheme": "http"}


async def test_no_headers_keeps_the_peer() -> None:
    async with client("127.0.0.1") as c:
        assert (await c.get("/")).json() == {"ip": "127.0.0.1", "scheme": "http"}
