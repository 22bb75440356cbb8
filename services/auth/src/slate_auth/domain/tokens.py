"""Issuing access and refresh tokens (RS256, with jti, aud, iss, nbf, exp)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt

from slate_common.security import ALGORITHM

from ..config import AuthSettings
from .keys import KeyRing


def _token(ring: KeyRing, settings: AuthSettings, claims: dict[str, Any], lifetime: float) -> str:
    issued = int(time.time())
    payload = {
        "iss": settings.shared.jwt_issuer,
        "aud": settings.shared.jwt_audience,
        "iat": issued,
        "nbf": issued,
        "exp": issued + int(lifetime),
        "jti": str(uuid.uuid4()),
        "identity_type": "person",
        **claims,
    }
    return jwt.encode(payload, ring.private_key, algorithm=ALGORITHM, headers={"kid": ring.kid})


def issue_pair(ring: KeyRing, settings: AuthSettings, *, person_id: uuid.UUID, role: str) -> tuple[str, str]:
    """A refresh token and an access token that knows its refresh token's id (so that
    logging out with the access token revokes both)."""
    refresh = _token(
        ring, settings, {"sub": str(person_id), "role": role, "type": "refresh"},
        settings.refresh_token_days * 86400,
    )
    refresh_jti = jwt.decode(refresh, options={"verify_signature": False})["jti"]
    access = issue_access(ring, settings, person_id=person_id, role=role, refresh_jti=refresh_jti)
    return access, refresh


def issue_access(
    ring: KeyRing, settings: AuthSettings, *, person_id: uuid.UUID, role: str, refresh_jti: str | None
) -> str:
    claims: dict[str, Any] = {"sub": str(person_id), "role": role, "type": "access"}
    if refresh_jti:
        claims["refresh_jti"] = refresh_jti
    return _token(ring, settings, claims, settings.access_token_minutes * 60)
