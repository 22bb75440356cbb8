"""The request side of token verification: the bearer token or cookie of a request, and
the FastAPI dependencies routes take their caller from (``CurrentUser``, ``AdminUser`` ...).
The verifier itself is :mod:`slate_common.tokens` (exported here too).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from .errors import Forbidden, Unauthorized
from .tokens import ACCESS_COOKIE as ACCESS_COOKIE
from .tokens import ALGORITHM as ALGORITHM
from .tokens import REFRESH_COOKIE as REFRESH_COOKIE
from .tokens import ROLES as ROLES
from .tokens import Principal as Principal
from .tokens import RevocationView as RevocationView
from .tokens import TokenVerifier as TokenVerifier


def token_from_request(request: Request, cookie: str = ACCESS_COOKIE) -> str | None:
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value:
            return value.strip()
    return request.cookies.get(cookie)


def _verifier(request: Request) -> TokenVerifier:
    return request.app.state.verifier  # type: ignore[no-any-return]


async def current_principal(request: Request) -> Principal:
    token = token_from_request(request)
    if not token:
        raise Unauthorized('Missing JWT in cookies or headers (Missing cookie "access_token_cookie"; Missing Authorization Header)')
    verifier = _verifier(request)
    await verifier.prefetch(token)
    principal = verifier.principal(token)
    request.state.principal = principal
    return principal


async def refresh_principal(request: Request) -> Principal:
    token = token_from_request(request, REFRESH_COOKIE)
    if not token:
        raise Unauthorized("Missing refresh token")
    verifier = _verifier(request)
    await verifier.prefetch(token)
    return verifier.principal(token, expected_type="refresh")


CurrentUser = Annotated[Principal, Depends(current_principal)]
RefreshUser = Annotated[Principal, Depends(refresh_principal)]


def require_roles(*roles: str) -> Callable[[Principal], Principal]:
    async def check(principal: CurrentUser) -> Principal:
        if principal.role not in roles:
            raise Forbidden()
        return principal

    return check  # type: ignore[return-value]


AdminUser = Annotated[Principal, Depends(require_roles("admin"))]
ManagerUser = Annotated[Principal, Depends(require_roles("admin", "manager"))]
