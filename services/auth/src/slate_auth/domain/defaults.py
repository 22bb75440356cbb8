"""The departments a fresh studio starts with, as after ``zou init-data``.

Given once, at the first start of an empty database (``reference_seed`` records it;
the migration that created that table marked older installs as already seeded), each
with its ``department:new`` event, so production's replica learns them and links its
default task types to them by name. Deleting one later is final.
"""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.events import emit
from slate_common.serialization import now

from ..models import Department, ReferenceSeed

SEED_NAME = "default-departments"

#: name, colour (the order and colours of a fresh Zou)
DEPARTMENTS = (
    ("Modeling", "#78909C"),
    ("Animation", "#009688"),
    ("FX", "#26C6DA"),
    ("Compositing", "#F06292"),
    ("Concept", "#8D6E63"),
    ("Layout", "#7CB342"),
)


async def seed_departments(session: AsyncSession) -> list[Department]:
    """Create the default departments unless this database was already given them."""
    await session.execute(text("SELECT pg_advisory_xact_lock(7302)"))  # replicas starting together
    if await session.get(ReferenceSeed, SEED_NAME) is not None:
        return []
    existing = set((await session.scalars(select(Department.name))).all())
    created = []
    for name, color in DEPARTMENTS:
        if name in existing:
            continue
        department = Department(name=name, color=color, archived=False)
        session.add(department)
        await session.flush()
        emit(session, name="department:new", data={"department_id": str(department.id), "snapshot": department.serialize()})
        created.append(department)
    session.add(ReferenceSeed(name=SEED_NAME, applied_at=now()))
    await session.flush()
    return created
