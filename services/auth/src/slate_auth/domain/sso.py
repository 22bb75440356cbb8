"""What SAML and OIDC logins share: one-use login states, and finding, binding or
creating the person an external identity stands for."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.errors import SlateError
from slate_common.events import emit
from slate_common.serialization import now

from ..models import Person, SsoIdentity, SsoState
from .identity import person_snapshot


class SsoError(SlateError):
    """An SSO failure, in the body Zou gives these routes: ``{"error": "<message>"}``."""

    status_code = 400

    def body(self) -> dict[str, object]:
        return {"error": self.message, **self.extra}


class SsoUnavailable(SsoError):
    """The identity provider cannot be reached or sent something unusable."""

    status_code = 503


@dataclass(frozen=True)
class ExternalIdentity:
    """Who the identity provider says the caller is. ``subject`` is None when the
    account is found by email at every login (SAML without a subject attribute)."""

    provider: str
    issuer: str
    subject: str | None
    email: str
    first_name: str = ""
    last_name: str = ""


async def save_state(
    session: AsyncSession, *, key: str, provider: str, lifetime: int,
    nonce: str | None = None, code_verifier: str | None = None,
) -> None:
    """Remember a login begun at the provider (and forget the ones that expired)."""
    await session.execute(delete(SsoState).where(SsoState.expires_at < now()))
    session.add(SsoState(key=key, provider=provider, nonce=nonce, code_verifier=code_verifier,
                         expires_at=now() + dt.timedelta(seconds=lifetime)))
    await session.flush()


async def live_state_keys(session: AsyncSession, *, provider: str) -> list[str]:
    rows = await session.scalars(select(SsoState.key).where(SsoState.provider == provider, SsoState.expires_at > now()))
    return list(rows)


async def take_state(session: AsyncSession, *, key: str, provider: str) -> SsoState | None:
    """The begun login of that key, removed so that it can be used only once."""
    row = (await session.execute(
        delete(SsoState)
        .where(SsoState.key == key, SsoState.provider == provider, SsoState.expires_at > now())
        .returning(SsoState.key, SsoState.nonce, SsoState.code_verifier, SsoState.provider, SsoState.expires_at)
    )).first()
    if row is None:
        return None
    return SsoState(key=row.key, nonce=row.nonce, code_verifier=row.code_verifier, provider=row.provider,
                    expires_at=row.expires_at)


async def person_for_identity(session: AsyncSession, *, identity: ExternalIdentity) -> Person:
    """The person bound to the identity; else the person holding its email (bound to it
    from now on); else a new person (``person:new``)."""
    if identity.subject is not None:
        bound = (await session.execute(
            select(Person).join(SsoIdentity, SsoIdentity.person_id == Person.id).where(
                SsoIdentity.provider == identity.provider,
                SsoIdentity.issuer == identity.issuer,
                SsoIdentity.subject == identity.subject,
            )
        )).scalars().first()
        if bound is not None:
            return bound
    email = identity.email.strip()
    if not email or "@" not in email:
        raise SsoError("The identity provider sent no valid email address.")
    person = (await session.scalars(
        select(Person).where(func.lower(Person.email) == email.lower()).with_for_update()
    )).first()
    if person is None:
        person = Person(
            email=email, first_name=identity.first_name[:80], last_name=identity.last_name[:80],
            role="user", active=True, password=None, phone="", desktop_login="",
        )
        session.add(person)
        await session.flush()
        emit(session, name="person:new",
             data={"person_id": str(person.id), "snapshot": await person_snapshot(session, person=person)},
             actor_id=person.id)
    elif identity.subject is not None:
        other = (await session.scalars(select(SsoIdentity).where(
            SsoIdentity.person_id == person.id,
            SsoIdentity.provider == identity.provider,
            SsoIdentity.issuer == identity.issuer,
        ))).first()
        if other is not None:
            raise SsoError("This account is bound to another identity.")
    if identity.subject is not None:
        session.add(SsoIdentity(person_id=person.id, provider=identity.provider,
                                issuer=identity.issuer, subject=identity.subject))
        await session.flush()
    return person
