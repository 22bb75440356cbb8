"""Reading persons and the organisation, and creating the first admin."""

from __future__ import annotations

import time
import uuid
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.db import BOOKKEEPING_FIELDS, CompiledRead, detached
from slate_common.errors import NotFound, ServiceUnavailable
from slate_common.events import emit
from slate_common.revocation import revocation_bucket, revoke_person
from slate_common.serialization import serialize_value

from ..models import Department, Organisation, Person, person_department
from .passwords import hash_password


async def find_login_person(session: AsyncSession, *, login: str) -> Person | None:
    """By email (case-insensitive), falling back to the desktop login id as Zou does."""
    login = login.strip()
    person = (await session.scalars(select(Person).where(func.lower(Person.email) == login.lower()))).first()
    if person is None and login:
        person = (await session.scalars(select(Person).where(Person.desktop_login == login))).first()
    return person


async def active_person_by_email(session: AsyncSession, *, email: str) -> Person | None:
    """The active person with this email (case-insensitive), None when there is none."""
    return (await session.scalars(
        select(Person).where(func.lower(Person.email) == email.strip().lower(), Person.active.is_(True))
    )).first()


async def find_person(session: AsyncSession, *, person_id: uuid.UUID) -> Person | None:
    return await session.get(Person, person_id)


async def email_taken(session: AsyncSession, *, email: str, but: uuid.UUID | None = None) -> bool:
    """Whether another person already uses ``email`` (case-insensitive)."""
    stmt = select(Person.id).where(func.lower(Person.email) == email.strip().lower())
    if but is not None:
        stmt = stmt.where(Person.id != but)
    return (await session.scalars(stmt.limit(1))).first() is not None


async def department_ids(session: AsyncSession, *, person_id: uuid.UUID) -> list[str]:
    rows = await session.execute(
        select(person_department.c.department_id).where(person_department.c.person_id == person_id)
    )
    return [str(r[0]) for r in rows]


async def existing_departments(session: AsyncSession, *, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    if not ids:
        return set()
    return set((await session.scalars(select(Department.id).where(Department.id.in_(ids)))).all())


async def set_departments(session: AsyncSession, *, person_id: uuid.UUID, ids: list[uuid.UUID]) -> None:
    """Make ``ids`` the person's departments (the person:* event that follows carries them)."""
    await session.execute(delete(person_department).where(person_department.c.person_id == person_id))
    if ids:
        await session.execute(insert(person_department).values(
            [{"person_id": person_id, "department_id": d} for d in ids]))


_PERSON_COLUMNS = tuple(Person.__table__.columns)
_ORGANISATION_COLUMNS = tuple(Organisation.__table__.columns)
_ORGANISATION_ID = [c.key for c in _ORGANISATION_COLUMNS].index("id")


def _caller_statement() -> Any:
    departments = (
        select(func.array_agg(person_department.c.department_id))
        .where(person_department.c.person_id == Person.id)
        .correlate(Person)
        .scalar_subquery()
    )
    first_organisation = select(Organisation.id).order_by(Organisation.created_at).limit(1).scalar_subquery()
    return (select(*_PERSON_COLUMNS, departments, *_ORGANISATION_COLUMNS)
            .select_from(Person)
            .outerjoin(Organisation, Organisation.id == first_organisation)
            .where(Person.id == bindparam("person_id", type_=PG_UUID(as_uuid=True))))


#: :func:`caller_with_organisation`'s statement, built and compiled once: the ORM's
#: execution of a two-entity row cost more than the query.
_CALLER = CompiledRead(_caller_statement())


async def caller_with_organisation(
    session: AsyncSession, *, person_id: uuid.UUID
) -> tuple[Person | None, list[str], Organisation | None]:
    """The person, their department ids and the organisation, in one statement (what
    /auth/authenticated answers, on every page load of Kitsu: one round trip, not three).
    The organisation is None when there is none yet (:func:`get_organisation` makes it).
    The objects are outside the session: for reading."""
    row = await _CALLER.first(session, person_id=person_id)
    if row is None:
        return None, [], None
    n = len(_PERSON_COLUMNS)
    person = detached(Person, _PERSON_COLUMNS, row[:n])
    ids = row[n]
    found = row[n + 1 + _ORGANISATION_ID] is not None  # the outer join's row
    organisation = detached(Organisation, _ORGANISATION_COLUMNS, row[n + 1:]) if found else None
    return person, [str(i) for i in ids or ()], organisation


async def serialize_person(session: AsyncSession, *, person: Person) -> dict[str, Any]:
    out = person.serialize()
    out["departments"] = await department_ids(session, person_id=person.id)
    return out


#: What non-admins see of a person (Zou's minimal payload).
MINIMAL_PERSON_FIELDS = ("id", "type", "first_name", "last_name", "full_name", "has_avatar", "active",
                         "departments", "studio_id", "role", "desktop_login", "is_bot")


async def serialize_persons(
    session: AsyncSession, *, persons: list[Person], fields: tuple[str, ...] | None = None,
    departments: bool = True
) -> list[dict[str, Any]]:
    """Persons with their departments, in one query for the whole list; only ``fields``
    when given; ``departments=False``: each with an empty list, without the query."""
    links: dict[uuid.UUID, list[str]] = {p.id: [] for p in persons}
    if persons and departments:
        rows = await session.execute(
            select(person_department.c.person_id, person_department.c.department_id)
            .where(person_department.c.person_id.in_(list(links)))
        )
        for person_id, department_id in rows:
            links[person_id].append(str(department_id))
    out = []
    for person in persons:
        if fields:  # only what is answered (a listing for non-admins: 12 of ~40 columns)
            out.append(_fields_of(person, fields, links[person.id]))
            continue
        row = person.serialize()
        row["departments"] = links[person.id]
        out.append(row)
    return out


def _fields_of(person: Person, fields: tuple[str, ...], departments: list[str]) -> dict[str, Any]:
    """``{k: serialize_persons' full row[k] for k in fields}``, without making the full row."""
    row: dict[str, Any] = {}
    for key in fields:
        if key == "departments":
            row[key] = departments
        elif key == "type":
            row[key] = person.zou_type or type(person).__name__
        elif key in person.hidden_fields or key in BOOKKEEPING_FIELDS:
            raise KeyError(key)  # never answered (the full row does not have it either)
        else:
            row[key] = serialize_value(getattr(person, key))
    return row


async def person_snapshot(session: AsyncSession, *, person: Person) -> dict[str, Any]:
    """The person as replicas see it in person:* events (no secrets, with departments)."""
    return await serialize_person(session, person=person)


async def emit_person_update(session: AsyncSession, *, person: Person, actor_id: uuid.UUID | None) -> None:
    """person:update for a change made outside the CRUD routes, with the CRUD snapshot."""
    await session.flush()
    snapshot = await person_snapshot(session, person=person)
    emit(session, name="person:update", data={"person_id": str(person.id), "snapshot": snapshot}, actor_id=actor_id)


async def get_person(session: AsyncSession, *, person_id: uuid.UUID, lock: bool = False) -> Person:
    """The person or Zou's 404."""
    stmt = select(Person).where(Person.id == person_id)
    if lock:
        stmt = stmt.with_for_update()
    person = (await session.scalars(stmt)).first()
    if person is None:
        raise NotFound()
    return person


async def revoke_all_tokens(runtime: Any, *, person_id: uuid.UUID) -> None:
    """Refuse every token of the person issued until now, everywhere (before the change
    commits: if it then fails, the person only has to log in again)."""
    if runtime is None or runtime.js is None:
        raise ServiceUnavailable("Token revocation is unavailable (NATS is not connected)")
    at = time.time()
    await revoke_person(await revocation_bucket(runtime.js), str(person_id), at)
    runtime.verifier.revocations.persons[str(person_id)] = at  # visible here at once


async def get_organisation(session: AsyncSession) -> Organisation:
    org = (await session.scalars(select(Organisation).order_by(Organisation.created_at))).first()
    if org is None:
        org = Organisation(name="Kitsu")
        session.add(org)
        await session.flush()
        emit(session, name="organisation:new", data={"organisation_id": str(org.id), "snapshot": org.serialize()})
    return org


async def create_admin(session: AsyncSession, *, email: str, password: str) -> tuple[Person, bool]:
    """The admin account, created once; returns (person, created)."""
    existing = await find_login_person(session, login=email)
    if existing is not None:
        return existing, False
    person = Person(
        first_name="Super", last_name="Admin", email=email, role="admin",
        password=hash_password(password), active=True, phone="", desktop_login="",
    )
    session.add(person)
    await session.flush()
    await get_organisation(session)
    snapshot = await person_snapshot(session, person=person)
    emit(session, name="person:new", data={"person_id": str(person.id), "snapshot": snapshot}, actor_id=person.id)
    return person, True


__all__ = ["Department", "create_admin", "find_login_person", "get_organisation", "revoke_all_tokens", "serialize_person"]
