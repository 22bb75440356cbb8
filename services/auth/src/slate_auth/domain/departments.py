"""Department membership of persons (a person:update with the new snapshot each time)."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.errors import BadRequest, NotFound

from ..models import Department, Person, person_department
from .identity import emit_person_update


async def add_to_department(
    session: AsyncSession, *, person: Person, department_id: uuid.UUID, actor_id: uuid.UUID
) -> None:
    if await session.get(Department, department_id) is None:
        raise BadRequest("Department ID matches no department", data=None)
    await session.execute(
        insert(person_department).values(person_id=person.id, department_id=department_id).on_conflict_do_nothing()
    )
    await emit_person_update(session, person=person, actor_id=actor_id)


async def remove_from_department(
    session: AsyncSession, *, person: Person, department_id: uuid.UUID, actor_id: uuid.UUID
) -> None:
    result = await session.execute(
        delete(person_department).where(person_department.c.person_id == person.id,
                                        person_department.c.department_id == department_id)
    )
    if result.rowcount:  # type: ignore[attr-defined]
        await emit_person_update(session, person=person, actor_id=actor_id)


async def department_members(session: AsyncSession, *, department_id: uuid.UUID) -> list[Person]:
    if await session.get(Department, department_id) is None:
        raise NotFound()
    rows = await session.scalars(
        select(Person).join(person_department, person_department.c.person_id == Person.id)
        .where(person_department.c.department_id == department_id).order_by(Person.first_name, Person.last_name)
    )
    return list(rows.all())

