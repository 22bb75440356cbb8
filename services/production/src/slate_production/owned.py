"""What production owns and other services replicate: the snapshots its events carry,
served to a replica that asks for an id it does not have yet (``slate_common.replica``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.replica import Owned

from .domain.comment_queries import snapshot as comment_snapshot
from .domain.entities import serialize_entity, type_name_of
from .domain.projects import project_snapshot
from .domain.tasks import task_snapshot
from .models import Comment, Entity, Project, Task

ENTITY_KINDS = ("entity", "asset", "shot", "sequence", "episode", "edit", "concept", "scene")


async def _entity(session: AsyncSession, entity: Entity) -> dict[str, Any]:
    return serialize_entity(entity, type_name=await type_name_of(session, entity_type_id=entity.entity_type_id))


async def _project(session: AsyncSession, project: Project) -> dict[str, Any]:
    return await project_snapshot(session, project=project)


async def _task(session: AsyncSession, task: Task) -> dict[str, Any]:
    return await task_snapshot(session, task=task)


async def _comment(session: AsyncSession, comment: Comment) -> dict[str, Any]:
    return comment_snapshot(comment)


OWNED: dict[str, Owned] = {
    "project": Owned(Project, _project),
    "task": Owned(Task, _task),
    "comment": Owned(Comment, _comment),
    **{kind: Owned(Entity, _entity) for kind in ENTITY_KINDS},
}
