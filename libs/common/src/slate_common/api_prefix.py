"""Every public path is served at the root and under ``/api`` (where Kitsu and gazu
call it). The gateway strips the prefix before forwarding; this pure-ASGI middleware does
the same in each service, so an edge proxy may send ``/api/...`` straight to the owner
(deploy/k8s/overlays/gateway-api) and a pipeline team may point gazu at one service.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class ApiPrefixMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            path: str = scope["path"]
            if path == "/api" or path.startswith("/api/"):
                scope = dict(scope)
                scope["path"] = path[4:] or "/"
                raw = scope.get("raw_path")
                if isinstance(raw, bytes) and (raw == b"/api" or raw.startswith(b"/api/")):
                    scope["raw_path"] = raw[4:] or b"/"
        await self.app(scope, receive, send)
