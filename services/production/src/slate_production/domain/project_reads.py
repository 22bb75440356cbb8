"""The project check of the plain listings (issue 16), from one plain row."""

from __future__ import annotations

import uuid

from sqlalchemy import bindparam, exists, select
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.errors import Forbidden, NotFound
from slate_common.security import Principal

from ..models import Project, project_person_link

#: The project's id and whether the caller is in its team, in one statement built once
#: (:func:`access.readable_project` reads the project object, then the team).
_PROJECT_AND_TEAM = select(Project.id, exists().where(
    project_person_link.c.project_id == Project.id,
    project_person_link.c.person_id == bindparam("person_id", type_=PG_UUID(as_uuid=True)),
)).where(Project.id == bindparam("project_id", type_=PG_UUID(as_uuid=True)))


async def readable_project_id(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID) -> uuid.UUID:
    """The project's id if the caller may see it, as :func:`access.readable_project`
    decides: 404 when there is none, 403 when they are not in its team (admins: all)."""
    row = (await session.execute(_PROJECT_AND_TEAM, {"project_id": project_id, "person_id": principal.id})).first()
    if row is None:
        raise NotFound()
    if not (principal.is_admin or row[1]):
        raise Forbidden()
    return row[0]  # type: ignore[no-any-return]
