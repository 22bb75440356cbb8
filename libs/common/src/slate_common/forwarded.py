"""The client address and scheme of a request, as the trusted proxies report them.

A pure ASGI middleware rewrites ``scope["client"]`` and ``scope["scheme"]`` with
:func:`slate_forwarded.resolve` (the rules the gateway applies too, from the same
``SLATE_TRUSTED_PROXIES``), so ``request.client.host`` is the first untrusted hop
(what rate limits and login logs record) and ``request.url.scheme`` is ``https``
behind a TLS proxy (Secure cookies). Headers from any other peer are ignored.
uvicorn's own proxy-header handling is switched off (``slate_common.service_cli``)
so that this is the only one.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from slate_forwarded import TrustedProxies, resolve


class ForwardedMiddleware:
    def __init__(self, app: ASGIApp, trusted: TrustedProxies | str) -> None:
        self.app = app
        self.trusted = TrustedProxies.parse(trusted) if isinstance(trusted, str) else trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            client = scope.get("client")
            if client and client[0] in self.trusted:
                xff = [v.decode("latin-1") for k, v in scope["headers"] if k == b"x-forwarded-for"]
                xfp = next((v.decode("latin-1") for k, v in scope["headers"]
                            if k == b"x-forwarded-proto"), None)
                if xff or xfp:
                    host, scheme = resolve(client[0], xff, xfp, scope.get("scheme", "http"),
                                           self.trusted)
                    # in place: the router's scope["route"] must stay visible to outer middlewares
                    scope["client"] = (host, 0 if host != client[0] else client[1])
                    scope["scheme"] = scheme
        await self.app(scope, receive, send)
