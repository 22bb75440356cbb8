"""Issuing access and refresh tokens (RS256, with jti, aud, iss, nbf, exp), refresh
token rotation with reuse detection, and bots' API tokens.

Every refresh token is recorded (``refresh_token``) with the family it belongs to (one
family per login). A refresh spends its token and issues the next one of the family. A
spent token shown again after a later token of its family has been used means two
holders share the family, i.e. it leaked: the whole family is revoked in every service
(its refresh tokens by jti; the access tokens they minted carry ``refresh_jti``).

A spent token shown again while no later token was used is accepted: that is what a
client that never reads the rotated token does (gazu keeps the refresh token of its
login, as Zou never rotates), and two browser tabs refreshing at once.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any

import jwt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.errors import Unauthorized
from slate_common.revocation import revocation_bucket, revoke_token
from slate_common.security import ALGORITHM, Principal
from slate_common.serialization import now

from ..config import AuthSettings
from ..models import Person, RefreshToken
from .keys import KeyRing

#: Bots' tokens "never expire": a date no deployment will see.
BOT_TOKEN_YEARS = 100


def _token(ring: KeyRing, settings: AuthSettings, claims: dict[str, Any], lifetime: float,
           until: dt.datetime | None = None) -> str:
    # iat keeps sub-second precision (a NumericDate may): a person's revocation cuts at an
    # instant, and a login right after a password change, in the same second, must live.
    stamp = time.time()
    issued = int(stamp)
    expires = issued + int(lifetime)
    if until is not None:  # never past ``until`` (naive UTC)
        expires = min(expires, int(until.replace(tzinfo=dt.timezone.utc).timestamp()))
    payload = {
        "iss": settings.shared.jwt_issuer,
        "aud": settings.shared.jwt_audience,
        "iat": round(stamp, 6),
        "nbf": issued,
        "exp": expires,
        "jti": str(uuid.uuid4()),
        "identity_type": "person",
        **claims,
    }
    return jwt.encode(payload, ring.private_key, algorithm=ALGORITHM, headers={"kid": ring.kid})


def _jti(token: str) -> str:
    return str(jwt.decode(token, options={"verify_signature": False})["jti"])


def session_cap(person: Person) -> dt.datetime | None:
    """When the person's tokens must end at the latest: a preview account's window (now,
    when it is closed)."""
    if person.preview_project_id is None:
        return None
    return person.preview_open_until or now()


def issue_pair(ring: KeyRing, *, settings: AuthSettings, person_id: uuid.UUID, role: str,
               until: dt.datetime | None = None) -> tuple[str, str]:
    """A refresh token and an access token that knows its refresh token's id (so that
    logging out with the access token revokes both); neither outlives ``until``."""
    refresh = _token(
        ring, settings, {"sub": str(person_id), "role": role, "type": "refresh"},
        settings.refresh_token_days * 86400, until,
    )
    access = issue_access(ring, settings=settings, person_id=person_id, role=role, refresh_jti=_jti(refresh),
                          until=until)
    return access, refresh


def issue_access(
    ring: KeyRing, *, settings: AuthSettings, person_id: uuid.UUID, role: str, refresh_jti: str | None,
    until: dt.datetime | None = None,
) -> str:
    claims: dict[str, Any] = {"sub": str(person_id), "role": role, "type": "access"}
    if refresh_jti:
        claims["refresh_jti"] = refresh_jti
    return _token(ring, settings, claims, settings.access_token_minutes * 60, until)


def _record(session: AsyncSession, settings: AuthSettings, *, refresh: str, person_id: uuid.UUID, family: str) -> None:
    session.add(RefreshToken(
        jti=_jti(refresh), family_id=family, person_id=person_id, created_at=now(),
        expires_at=now() + dt.timedelta(days=settings.refresh_token_days),
    ))


async def start_session(
    session: AsyncSession, *, ring: KeyRing, settings: AuthSettings, person: Person
) -> tuple[str, str]:
    """Tokens for a fresh login: (access, refresh), the refresh token opening a family."""
    access, refresh = issue_pair(ring, settings=settings, person_id=person.id, role=person.role,
                                 until=session_cap(person))
    _record(session, settings, refresh=refresh, person_id=person.id, family=_jti(refresh))
    return access, refresh


async def refresh_session(
    session: AsyncSession, *, runtime: Any, ring: KeyRing, settings: AuthSettings, principal: Principal, person: Person
) -> tuple[str, str | None]:
    """(access, next refresh token or None without rotation) for a valid refresh token."""
    if not settings.refresh_token_rotation:
        return issue_access(ring, settings=settings, person_id=person.id, role=person.role, refresh_jti=principal.jti,
                            until=session_cap(person)), None
    row = (await session.scalars(
        select(RefreshToken).where(RefreshToken.jti == principal.jti).with_for_update()
    )).first()
    if row is None:  # issued before tokens were recorded: it opens a family now
        row = RefreshToken(jti=principal.jti, family_id=principal.jti, person_id=person.id, created_at=now(),
                           expires_at=now() + dt.timedelta(days=settings.refresh_token_days))
        session.add(row)
    elif row.used_at is not None and await _family_moved_on(session, row):
        await revoke_family(session, runtime=runtime, family_id=row.family_id)
        raise Unauthorized("Token has been revoked")
    row.used_at = now()
    refresh = _token(ring, settings, {"sub": str(person.id), "role": person.role, "type": "refresh"},
                     settings.refresh_token_days * 86400, session_cap(person))
    _record(session, settings, refresh=refresh, person_id=person.id, family=row.family_id)
    access = issue_access(ring, settings=settings, person_id=person.id, role=person.role, refresh_jti=_jti(refresh),
                          until=session_cap(person))
    return access, refresh


async def _family_moved_on(session: AsyncSession, row: RefreshToken) -> bool:
    """True when a token issued after ``row`` in its family has itself been used."""
    later_used = await session.scalar(
        select(RefreshToken.jti).where(
            RefreshToken.family_id == row.family_id,
            RefreshToken.created_at > row.created_at,
            RefreshToken.used_at.is_not(None),
        ).limit(1)
    )
    return later_used is not None


async def revoke_family(session: AsyncSession, *, runtime: Any, family_id: str) -> None:
    """Refuse every refresh token of the family, and every access token they minted,
    in every service."""
    jtis = list((await session.scalars(select(RefreshToken.jti).where(RefreshToken.family_id == family_id))).all())
    kv = await revocation_bucket(runtime.js)
    for jti in jtis:
        await revoke_token(kv, jti)
        runtime.verifier.revocations.jtis[jti] = time.time()


def issue_bot_token(ring: KeyRing, *, settings: AuthSettings, person: Person) -> str:
    """A bot's API token: no refresh, valid until the bot's expiration date (if any)."""
    issued = int(time.time())
    if person.expiration_date is not None:
        until = dt.datetime.combine(person.expiration_date, dt.time(), tzinfo=dt.timezone.utc).timestamp()
        lifetime = max(until - issued, 1)
    else:
        lifetime = BOT_TOKEN_YEARS * 365 * 86400
    token = _token(ring, settings, {"sub": str(person.id), "role": person.role, "type": "access",
                                    "identity_type": "bot"}, lifetime)
    person.bot_token_jti = _jti(token)
    return token
