"""Passwords as a person's account sees them: change (self, admin), reset by an emailed
token, invitations. Every password change revokes all of the person's tokens."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import secrets
import string
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.errors import BadRequest
from slate_common.serialization import now

from ..config import AuthSettings
from ..models import Person
from .identity import get_organisation, revoke_all_tokens
from .passwords import check_new_password, hash_password, verify_password

_TOKEN_ALPHABET = string.ascii_uppercase + string.digits
TOKEN_LENGTH = 64


def _derive_token(person: Person, nonce: str, secret_key: str) -> str:
    """The reset token of a pending reset: derived from a stored nonce with the secret key,
    so the database alone never reveals it, and a link shared earlier can be shown again."""
    digest = hmac.new(secret_key.encode(), f"reset:{person.id}:{nonce}".encode(), hashlib.sha512).digest()
    return "".join(_TOKEN_ALPHABET[b % len(_TOKEN_ALPHABET)] for b in digest[:TOKEN_LENGTH])


async def set_password(runtime: Any, *, person: Person, password: str) -> None:
    """Store a new password and end every session of the person, everywhere."""
    person.password = await asyncio.to_thread(hash_password, password)
    person.reset_token_hash = None
    person.reset_token_expires_at = None
    await revoke_all_tokens(runtime, person_id=person.id)


async def change_own_password(
    runtime: Any, *, person: Person, old_password: str, password: str, password_2: str
) -> None:
    if not person.active:
        raise BadRequest("User is inactive.")
    if not await asyncio.to_thread(verify_password, person.password, password=old_password):
        raise BadRequest("Old password is wrong.")
    check_new_password(password, confirmation=password_2)
    await set_password(runtime, person=person, password=password)


async def admin_change_password(
    runtime: Any, *, admin_id: Any, person: Person, password: str
) -> None:
    """An admin sets a person's password; another admin's existing password is theirs. An
    inactive person's too (as Zou): it serves once they are active again."""
    if person.role == "admin" and person.id != admin_id and person.password:
        raise BadRequest("An admin can't change another admin's password.")
    check_new_password(password, confirmation=password)
    await set_password(runtime, person=person, password=password)


def reset_pending(person: Person) -> bool:
    return bool(person.reset_token_hash) and person.reset_token_expires_at is not None \
        and person.reset_token_expires_at > now()


def new_reset_token(person: Person, *, settings: AuthSettings, reuse: bool = False) -> str:
    """A reset token valid ``reset_token_hours``; with ``reuse``, a pending one is kept."""
    if not (reuse and reset_pending(person)):
        person.reset_token_hash = secrets.token_hex(32)  # the nonce the token derives from
        person.reset_token_expires_at = now() + dt.timedelta(hours=settings.reset_token_hours)
    assert person.reset_token_hash
    return _derive_token(person, person.reset_token_hash, settings.shared.secret_key)


def reset_link(settings: AuthSettings, *, person: Person, token: str) -> str:
    query = urlencode({"email": person.email or "", "token": token})
    return f"{settings.public_url.rstrip('/')}/reset-change-password?{query}"


async def find_by_email(session: AsyncSession, *, email: str) -> Person | None:
    email = email.strip().lower()
    if not email:
        return None
    return (await session.scalars(select(Person).where(func.lower(Person.email) == email))).first()


async def reset_with_token(
    session: AsyncSession, *, runtime: Any, settings: AuthSettings, email: str, token: str, password: str,
    password_2: str,
) -> None:
    check_new_password(password, confirmation=password_2)
    person = await find_by_email(session, email=email)
    if person is None or not reset_pending(person) or not hmac.compare_digest(
        _derive_token(person, person.reset_token_hash or "", settings.shared.secret_key).encode(),
        token.strip().encode("utf-8", "replace"),
    ):
        raise BadRequest("Wrong or expired token.")
    if not person.active:
        raise BadRequest("User is inactive.")
    await set_password(runtime, person=person, password=password)


def reset_mail(settings: AuthSettings, *, person: Person, link: str) -> tuple[str, str]:
    subject = f"{settings.app_name}: password reset"
    body = (
        f"Hello {person.first_name},\n\n"
        f"Someone asked to reset the password of your {settings.app_name} account ({person.email}).\n"
        f"To choose a new password, open this link within {settings.reset_token_hours} hours:\n\n{link}\n\n"
        "If you did not ask for it, ignore this mail: your password stays as it is.\n"
    )
    return subject, body


async def invite_mail(session: AsyncSession, *, settings: AuthSettings, person: Person, link: str) -> tuple[str, str]:
    organisation = await get_organisation(session)
    subject = f"You are invited to {organisation.name} on {settings.app_name}"
    body = (
        f"Hello {person.first_name},\n\n"
        f"You are invited to work with {organisation.name} on {settings.app_name}.\n"
        f"Your login is {person.email}. Choose your password here:\n\n{link}\n\n"
        f"Then log in at {settings.public_url.rstrip('/')}\n"
    )
    return subject, body
