"""What production answers over NATS request/reply (``slate.rpc.production.<operation>``),
besides the snapshots of what it owns (``owned.py``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from slate_common.app import ServiceRuntime
from slate_common.bus import Handler
from slate_common.db import transaction
from slate_common.errors import BadRequest

from .domain.people import person_links
from .models import Project, ProjectStatus, project_person_link


def rpc_handlers(runtime_of: Callable[[], ServiceRuntime]) -> dict[str, Handler]:
    """The handlers; ``runtime_of`` answers the running service's runtime."""

    async def links_of_person(payload: Any) -> Any:
        """``{"person_id"}`` -> ``{"links": [...]}``: what production still holds of a
        person (auth refuses to delete one that something links to, as Zou does)."""
        try:
            person_id = uuid.UUID(str((payload or {}).get("person_id")))
        except ValueError as exc:
            raise BadRequest("Malformed person_id.") from exc
        async with transaction(runtime_of().sessionmaker) as session:
            return {"links": await person_links(session, person_id=person_id)}

    async def mates_of_person(payload: Any) -> Any:
        """``{"person_id"}`` -> ``{"person_ids": [...]}``: the members of the teams of the
        open projects the person is in, themself included (Zou lists a client those only)."""
        try:
            person_id = uuid.UUID(str((payload or {}).get("person_id")))
        except ValueError as exc:
            raise BadRequest("Malformed person_id.") from exc
        team = project_person_link.c
        theirs = (select(team.project_id).join(Project, Project.id == team.project_id)
                  .join(ProjectStatus, ProjectStatus.id == Project.project_status_id)
                  .where(team.person_id == person_id, ProjectStatus.name == "Open"))
        async with transaction(runtime_of().sessionmaker) as session:
            ids = await session.scalars(select(team.person_id).where(team.project_id.in_(theirs)).distinct())
            return {"person_ids": sorted(str(i) for i in ids)}

    return {"person-links": links_of_person, "project-mates": mates_of_person}
