"""What production replicates from other services (``slate_common.replica``): auth's
persons, departments and studios, media's preview and attachment files."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.replica import Replica

from .domain.defaults import link_task_types_to_department
from .domain.people import link_departments, person_columns, remove_person_links
from .domain.previews import follow_task_preview
from .models import AttachmentFileReplica, Department, Person, PreviewFileReplica, Studio


async def _link_task_types(session: AsyncSession, snapshot: dict[str, Any]) -> None:
    await link_task_types_to_department(session, snapshot=snapshot)


PERSONS = Replica(Person, "person", "auth", columns=person_columns, after_upsert=link_departments,
                  after_remove=remove_person_links)
DEPARTMENTS = Replica(Department, "department", "auth", after_upsert=_link_task_types)
STUDIOS = Replica(Studio, "studio", "auth")
PREVIEWS = Replica(PreviewFileReplica, "preview-file", "media", verbs=("add-file",), after_upsert=follow_task_preview)
ATTACHMENTS = Replica(AttachmentFileReplica, "attachment-file", "media")

REPLICAS: list[Replica] = [PERSONS, DEPARTMENTS, STUDIOS, PREVIEWS, ATTACHMENTS]
