"""The desktop app login flow: a logged-in browser mints a one-time code bound to a PKCE
challenge; the app trades it, with the verifier, for its own tokens (once, within a
minute). Only a hash of the code is stored."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.errors import Forbidden
from slate_common.serialization import now

from ..models import AppLoginCode, Person


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def challenge_of(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


async def mint_code(session: AsyncSession, *, person: Person, challenge: str, seconds: int) -> str:
    if person.is_bot or not person.active:
        raise Forbidden()
    await session.execute(delete(AppLoginCode).where(AppLoginCode.expires_at < now()))
    code = secrets.token_urlsafe(32)
    session.add(AppLoginCode(code_hash=_hash(code), person_id=person.id, code_challenge=challenge,
                             expires_at=now() + dt.timedelta(seconds=seconds)))
    return code


WRONG_CODE = {"login": False, "message": "Wrong or expired code."}


async def redeem_code(session: AsyncSession, *, code: str, verifier: str) -> Person | None:
    """The person the code was minted for, or None; the code is spent whatever the
    outcome (the caller answers without raising, so that the spending commits)."""
    row = (await session.scalars(
        select(AppLoginCode).where(AppLoginCode.code_hash == _hash(code)).with_for_update()
    )).first()
    if row is None:
        return None
    await session.delete(row)
    await session.flush()
    if row.expires_at < now() or not hmac.compare_digest(row.code_challenge, challenge_of(verifier)):
        return None
    person = await session.get(Person, row.person_id)
    if person is None or not person.active:
        return None
    return person
