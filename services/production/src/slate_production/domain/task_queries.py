"""Task listings: plain rows, rows with names (per entity), and the rich rows of a
person's todo list; each one query, scope inside."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, literal_column, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.security import Principal
from slate_common.serialization import loads

from ..models import Entity, EntityType, Project, ProjectStatus, Task, TaskStatus, TaskType
from . import access
from .listing_cache import ListingCache
from .todo import ROW_JSON, STAMP
from .todo import _base as todo_base  # the to-check pages' row builder, same shape
from .todo import assigned_to_person  # noqa: F401  (re-exported: the routes' filter)
from .todo import rows_json as todo_rows_json
from .tasks import assignees_of, serialize_task


def vendor_filter(principal: Principal) -> ColumnElement[bool]:
    if not principal.is_vendor:
        return true()
    return access.assigned_to(principal, Task.id)


async def plain_tasks(session: AsyncSession, principal: Principal, *conditions: Any) -> list[dict[str, Any]]:
    stmt = (
        select(Task).where(access.project_visible(principal, Task.project_id), vendor_filter(principal), *conditions)
        .order_by(Task.created_at, Task.id)
    )
    tasks = list((await session.scalars(stmt)).all())
    assignees = await assignees_of(session, [t.id for t in tasks])
    return [serialize_task(t, assignees[t.id]) for t in tasks]


async def named_tasks(session: AsyncSession, principal: Principal, *conditions: Any) -> list[dict[str, Any]]:
    """Task rows with project, type, status and entity names (Zou's entity task lists)."""
    stmt = (
        select(Task, Project.name, TaskType.name, TaskStatus.name, EntityType.name, Entity.name)
        .join(Project, Project.id == Task.project_id)
        .join(TaskType, TaskType.id == Task.task_type_id)
        .join(TaskStatus, TaskStatus.id == Task.task_status_id)
        .join(Entity, Entity.id == Task.entity_id)
        .join(EntityType, EntityType.id == Entity.entity_type_id)
        .where(access.project_visible(principal, Task.project_id), vendor_filter(principal), *conditions)
        .order_by(Entity.name, TaskType.priority, TaskType.name, Task.id)
    )
    rows = (await session.execute(stmt)).all()
    out = []
    for task, project_name, tt_name, ts_name, et_name, e_name in rows:
        row = task.serialize()
        row.update(project_name=project_name, task_type_name=tt_name, task_status_name=ts_name,
                   entity_type_name=et_name, entity_name=e_name)
        out.append(row)
    return out


async def todo_tasks_json(session: AsyncSession, principal: Principal, *conditions: Any,
                          cache: ListingCache | None = None, cache_key: Any = None) -> bytes:
    """Rich task rows of running projects (a person's todo list) as a JSON array: entity,
    parents, type and status details, last comment (the row builder of the to-check pages).
    With a ``cache``, rows are kept per caller and ``cache_key`` (which must name the
    ``conditions``) and only the tasks whose stamp changed are built again."""
    stmt = (
        todo_base()
        .where(access.project_visible(principal, Task.project_id), *conditions)
        .order_by(Project.name, Entity.name, TaskType.priority, Task.id)
    )
    if cache is None:
        return await todo_rows_json(session, stmt)
    stamps = [(r[0], r[1]) for r in await session.execute(stmt.with_only_columns(Task.id, literal_column(STAMP)))]

    async def build(ids: list[uuid.UUID] | None) -> dict[uuid.UUID, str]:
        rows = stmt.with_only_columns(Task.id, literal_column(ROW_JSON))
        if ids is not None:
            rows = rows.where(Task.id.in_(ids))
        return {r[0]: r[1] for r in await session.execute(rows)}

    return await cache.rows(("todo", cache_key, principal.id, principal.role), "", stamps, build,
                            lambda rows: ("[" + ",".join(rows) + "]").encode(), keep_body=False)


async def todo_tasks(session: AsyncSession, principal: Principal, *conditions: Any) -> list[dict[str, Any]]:
    """:func:`todo_tasks_json` as dicts, for callers that reshape the rows."""
    return loads(await todo_tasks_json(session, principal, *conditions))  # type: ignore[no-any-return]


def open_project() -> ColumnElement[bool]:
    return ProjectStatus.name == "Open"


async def task_types_of(session: AsyncSession, *conditions: Any) -> list[dict[str, Any]]:
    """The task types of the tasks matching ``conditions``, ordered by name (as Zou)."""
    used = select(Task.task_type_id).where(*conditions)
    rows = await session.scalars(select(TaskType).where(TaskType.id.in_(used)).order_by(TaskType.name, TaskType.id))
    return [t.serialize() for t in rows]
