"""What auth owns and production replicates: persons (with their departments),
departments and studios, answered with the snapshots their events carry."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.replica import Owned

from .domain.identity import person_snapshot
from .models import Department, Person, Studio


async def _person(session: AsyncSession, person: Person) -> dict[str, Any]:
    return await person_snapshot(session, person=person)


async def _row(session: AsyncSession, row: Any) -> dict[str, Any]:
    return row.serialize()  # type: ignore[no-any-return]


OWNED: dict[str, Owned] = {
    "person": Owned(Person, _person),
    "department": Owned(Department, _row),
    "studio": Owned(Studio, _row),
}
