"""Preview accounts: one client-role person per production that a manager hands out to
let someone look at the production for a while.

The account is a person (``preview_project_id`` set) with a generated password. It may
log in only inside its access window (``preview_open_until``), opened for an hour at a
time; closing the window, resetting the password or deleting the account ends its
sessions in every service. Tokens issued to it never outlive the window (see
``tokens.session_cap``), so the end of the hour ends them too.

Production owns the routes and reaches these functions through RPC
(``slate.rpc.auth.preview-account.*``). The clear password only goes back in the answer
to the creation; it is never logged nor put in an event (person snapshots carry no
password).
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.errors import NotFound
from slate_common.events import emit
from slate_common.params import parse_id
from slate_common.serialization import now

from ..models import Person
from .identity import emit_person_update, person_snapshot, revoke_all_tokens
from .passwords import hash_password

#: How long one opening of the window lasts.
WINDOW = dt.timedelta(hours=1)
EMAIL_DOMAIN = "preview.kitsu.invalid"
NO_ACCOUNT = "404 Not Found: No preview account for this project"


def is_preview_account(person: Person) -> bool:
    return person.preview_project_id is not None


def window_open(person: Person, *, at: dt.datetime | None = None) -> bool:
    """False for a preview account outside its window; True for every other person."""
    if not is_preview_account(person):
        return True
    return person.preview_open_until is not None and person.preview_open_until > (at or now())


def answer(person: Person) -> dict[str, Any]:
    """The fields Zou answers for a preview account."""
    until = person.preview_open_until
    return {
        "id": str(person.id),
        "email": person.email,
        "full_name": person.full_name,
        "preview_open_until": until.isoformat() if until is not None else None,
    }


async def find(session: AsyncSession, *, project_id: uuid.UUID, lock: bool = False) -> Person | None:
    """The production's account; ``lock``: serialized with the other changes of this
    production's account (two creations at once make one account)."""
    if lock:
        await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"preview-account:{project_id}"))))
    stmt = select(Person).where(Person.preview_project_id == project_id).order_by(Person.created_at).limit(1)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.scalars(stmt)).first()


async def get_account(session: AsyncSession, *, project_id: uuid.UUID) -> dict[str, Any] | None:
    person = await find(session, project_id=project_id)
    return answer(person) if person is not None else None


async def create_or_reset(
    session: AsyncSession, *, runtime: Any, project_id: uuid.UUID, project_name: str, actor_id: uuid.UUID | None
) -> dict[str, Any]:
    """The production's preview account with a new password and its window closed
    (created when there is none); answers the clear password, once."""
    password = secrets.token_urlsafe(12)
    person = await find(session, project_id=project_id, lock=True)
    if person is None:
        person = Person(
            first_name="Preview", last_name=project_name.strip()[:80] or "Preview",
            email=f"preview-{secrets.token_hex(6)}@{EMAIL_DOMAIN}", role="client", active=True,
            preview_project_id=project_id, password=hash_password(password), phone="", desktop_login="",
        )
        session.add(person)
        await session.flush()
        snapshot = await person_snapshot(session, person=person)
        emit(session, name="person:new", data={"person_id": str(person.id), "snapshot": snapshot}, actor_id=actor_id)
        return {**answer(person), "password": password, "created": True}
    await revoke_all_tokens(runtime, person_id=person.id)
    person.password = hash_password(password)
    _close(person)
    await emit_person_update(session, person=person, actor_id=actor_id)
    return {**answer(person), "password": password, "created": False}


async def set_open(
    session: AsyncSession, *, runtime: Any, project_id: uuid.UUID, is_open: bool, actor_id: uuid.UUID | None
) -> dict[str, Any]:
    """Open the window for an hour from now (again), or close it and end the sessions."""
    person = await find(session, project_id=project_id, lock=True)
    if person is None:
        raise NotFound(NO_ACCOUNT)
    if is_open:
        opened = now()
        person.preview_opened_at = opened
        person.preview_open_until = opened + WINDOW
    else:
        await revoke_all_tokens(runtime, person_id=person.id)
        _close(person)
    await emit_person_update(session, person=person, actor_id=actor_id)
    return answer(person)


async def delete_account(
    session: AsyncSession, *, runtime: Any, project_id: uuid.UUID, actor_id: uuid.UUID | None
) -> str | None:
    """Delete the account and end its sessions; answers the deleted person's id (None
    when there was none)."""
    person = await find(session, project_id=project_id, lock=True)
    if person is None:
        return None
    await revoke_all_tokens(runtime, person_id=person.id)
    person_id = str(person.id)
    snapshot = await person_snapshot(session, person=person)
    await session.delete(person)
    await session.flush()
    emit(session, name="person:delete", data={"person_id": person_id, "snapshot": snapshot}, actor_id=actor_id)
    return person_id


def _close(person: Person) -> None:
    person.preview_opened_at = None
    person.preview_open_until = None


# --- RPC payloads ---------------------------------------------------------------------


def parse_uuid(payload: Any, *, key: str, required: bool = True) -> uuid.UUID | None:
    value = payload.get(key) if isinstance(payload, dict) else None
    if value is None and not required:
        return None
    return parse_id(value, f"Malformed {key}.")
