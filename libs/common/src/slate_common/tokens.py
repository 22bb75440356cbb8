"""Token verification for every service, without calling auth.

Auth signs RS256 JWTs and publishes its public keys as a JWKS document
(``GET /auth/jwks.json``). Services fetch it lazily, cache it, and refetch when a token
names an unknown key id (at most every few seconds). Only RS256 is accepted: ``alg=none``
and HS/RS confusion are refused before any key is touched.

Revocation is a NATS KV bucket (see :mod:`slate_common.revocation`): a token whose
``jti`` is revoked, or that was issued before its person's revocation time, is refused.

This module needs no web framework (a worker process verifies nothing but holds the
verifier's revocation view); the request dependencies are in :mod:`slate_common.security`,
which also exports everything here.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt

from .errors import InvalidToken, Unauthorized

ALGORITHM = "RS256"
ACCESS_COOKIE = "access_token_cookie"
REFRESH_COOKIE = "refresh_token_cookie"
ROLES = ("admin", "manager", "supervisor", "user", "client", "vendor")


@dataclass(frozen=True)
class Principal:
    """The caller of a request, from the verified token's claims."""

    id: uuid.UUID
    role: str
    jti: str
    token_type: str = "access"
    claims: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_manager(self) -> bool:
        return self.role in ("admin", "manager")

    @property
    def is_client(self) -> bool:
        return self.role == "client"

    @property
    def is_vendor(self) -> bool:
        return self.role == "vendor"


class RevocationView:
    """What the verifier needs to know of revocations (filled by a NATS KV watcher)."""

    def __init__(self) -> None:
        self.jtis: dict[str, float] = {}
        self.persons: dict[str, float] = {}

    def is_revoked(self, claims: dict[str, Any]) -> bool:
        if claims.get("jti") in self.jtis:
            return True
        # An access token dies with the refresh token it was minted from (logout, a
        # refresh token family revoked on reuse).
        if claims.get("refresh_jti") and claims["refresh_jti"] in self.jtis:
            return True
        cutoff = self.persons.get(str(claims.get("sub")))
        return cutoff is not None and float(claims.get("iat", 0)) <= cutoff


class TokenVerifier:
    def __init__(
        self,
        *,
        audience: str,
        issuer: str,
        jwks_url: str | None = None,
        key_provider: Callable[[], dict[str, Any]] | None = None,
        revocations: RevocationView | None = None,
        leeway: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.audience = audience
        self.issuer = issuer
        self.jwks_url = jwks_url
        self.key_provider = key_provider
        self.revocations = revocations or RevocationView()
        self.leeway = leeway
        #: The time a cached token's expiry and not-before are checked against (tests move it).
        self.clock = clock
        self._keys: dict[str, Any] = {}
        self._fetched_at = 0.0
        #: Tokens whose signature, audience and issuer were verified: token -> (claims,
        #: key id). A client sends the same token for an hour; an RSA check per request
        #: is the largest fixed cost of a light one. Times, type, key and revocation are
        #: still checked on every use.
        self._verified: OrderedDict[str, tuple[dict[str, Any], Any]] = OrderedDict()

    def _load_keys(self, force: bool) -> None:
        if self.key_provider is not None:
            self._keys = self.key_provider()
            return
        if not force and self._keys:
            return
        if time.monotonic() - self._fetched_at < 3.0 and self._keys:
            return
        if not self.jwks_url:
            raise Unauthorized("No key to verify tokens")
        try:
            doc = httpx.get(self.jwks_url, timeout=5.0).json()
        except (httpx.HTTPError, ValueError) as exc:
            raise Unauthorized("Token keys are not available") from exc
        self._fetched_at = time.monotonic()
        self._keys = {k["kid"]: jwt.PyJWK(k).key for k in doc.get("keys", []) if k.get("kid")}

    def _key_for(self, kid: str | None) -> Any:
        self._load_keys(force=False)
        if kid not in self._keys:
            self._load_keys(force=True)
        if kid not in self._keys:
            raise InvalidToken("Unknown token key")
        return self._keys[kid]

    def needs_fetch(self, token: str) -> bool:
        """True when verifying ``token`` would fetch the JWKS (unknown key id)."""
        if self.key_provider is not None:
            return False
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            return False
        return kid not in self._keys and time.monotonic() - self._fetched_at >= 3.0

    async def prefetch(self, token: str) -> None:
        """Fetch the JWKS off the event loop when ``token`` names a key not known yet."""
        hit = self._verified.get(token)
        if hit is not None and (self.key_provider is not None or hit[1] in self._keys):
            return  # verified before with a key still known: no header to decode again
        if self.needs_fetch(token):
            await asyncio.to_thread(self._load_keys, True)

    async def warm_up(self, attempts: int = 30) -> None:
        """Fetch the keys at start-up, retrying while auth is not answering yet, so the
        first requests of a process under load do not each wait on (or fail) a fetch."""
        if self.key_provider is not None or not self.jwks_url:
            return
        delay = 0.5
        for _ in range(attempts):
            try:
                await asyncio.to_thread(self._load_keys, True)
                if self._keys:
                    return
            except Unauthorized:
                pass
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    VERIFIED_CACHE_SIZE = 4096

    def _cached_claims(self, token: str) -> dict[str, Any] | None:
        hit = self._verified.get(token)
        if hit is None:
            return None
        claims, kid = hit
        if self.key_provider is None and kid not in self._keys:  # its key was withdrawn
            del self._verified[token]
            return None
        now = self.clock()
        if float(claims["exp"]) <= now - self.leeway:
            del self._verified[token]
            raise Unauthorized("Token has expired")
        if float(claims["nbf"]) > now + self.leeway:
            raise InvalidToken("The token is not yet valid (nbf)")
        self._verified.move_to_end(token)
        return claims

    def decode(self, token: str, *, expected_type: str = "access") -> dict[str, Any]:
        claims = self._cached_claims(token)
        if claims is None:
            claims = self._verify(token)
        if claims.get("type", "access") != expected_type:
            raise InvalidToken(f"Only {expected_type} tokens are allowed")
        if self.revocations.is_revoked(claims):
            raise Unauthorized("Token has been revoked")
        return claims

    def _verify(self, token: str) -> dict[str, Any]:
        """Signature, algorithm, key, audience, issuer and times of a token not seen yet."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc) or "Invalid token") from exc
        if header.get("alg") != ALGORITHM:
            raise InvalidToken("The specified alg value is not allowed")
        key = self._key_for(header.get("kid"))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "nbf", "sub", "jti", "aud", "iss"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("Token has expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise InvalidToken("The token is not yet valid (nbf)") from exc
        except jwt.InvalidAudienceError as exc:
            raise InvalidToken("Invalid audience") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc) or "Invalid token") from exc
        self._verified[token] = (claims, header.get("kid"))
        if len(self._verified) > self.VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)
        return claims

    def principal(self, token: str, *, expected_type: str = "access") -> Principal:
        claims = self.decode(token, expected_type=expected_type)
        try:
            pid = uuid.UUID(str(claims["sub"]))
        except ValueError as exc:
            raise InvalidToken("Invalid token subject") from exc
        return Principal(
            id=pid,
            role=str(claims.get("role", "user")),
            jti=str(claims["jti"]),
            token_type=expected_type,
            claims=claims,
        )
