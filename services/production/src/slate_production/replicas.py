"""What production replicates from other services (``slate_common.replica``): auth's
persons, departments and studios, media's preview and attachment files."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.replica import Replica

from .domain.defaults import link_task_types_to_department
from .domain.people import link_departments, person_columns, remove_person_links
from .domain.previews import follow_task_preview
from .models import AttachmentFileReplica, Department, Person, PreviewFileReplica, Studio

# The replica calls its hooks with (session, snapshot) or (session, id); the domain's
# functions take keywords after the session.


async def _person_upserted(session: AsyncSession, snapshot: dict[str, Any]) -> None:
    await link_departments(session, snapshot=snapshot)


async def _person_removed(session: AsyncSession, person_id: uuid.UUID) -> None:
    await remove_person_links(session, person_id=person_id)


async def _preview_upserted(session: AsyncSession, snapshot: dict[str, Any]) -> None:
    await follow_task_preview(session, snapshot=snapshot)


async def _link_task_types(session: AsyncSession, snapshot: dict[str, Any]) -> None:
    await link_task_types_to_department(session, snapshot=snapshot)


PERSONS = Replica(Person, "person", "auth", columns=person_columns, after_upsert=_person_upserted,
                  after_remove=_person_removed)
DEPARTMENTS = Replica(Department, "department", "auth", after_upsert=_link_task_types)
STUDIOS = Replica(Studio, "studio", "auth")
PREVIEWS = Replica(PreviewFileReplica, "preview-file", "media", verbs=("add-file",), after_upsert=_preview_upserted)
ATTACHMENTS = Replica(AttachmentFileReplica, "attachment-file", "media")

REPLICAS: list[Replica] = [PERSONS, DEPARTMENTS, STUDIOS, PREVIEWS, ATTACHMENTS]
