"""Task listings: plain rows, rows with names (per entity), and the rich rows of a
person's todo list; each one query, scope inside."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, exists, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from slate_common.security import Principal

from ..models import Entity, EntityType, Project, ProjectStatus, Task, TaskStatus, TaskType, task_person_link
from . import access
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


async def todo_tasks(session: AsyncSession, principal: Principal, *conditions: Any) -> list[dict[str, Any]]:
    """Rich task rows (a person's todo list): entity, parents, type and status details."""
    seq = aliased(Entity)
    ep = aliased(Entity)
    stmt = (
        select(Task, Project.name, Project.has_avatar, Entity, EntityType.name, seq.name, ep.id, ep.name,
               TaskType, TaskStatus)
        .join(Project, Project.id == Task.project_id)
        .join(ProjectStatus, ProjectStatus.id == Project.project_status_id)
        .join(TaskType, TaskType.id == Task.task_type_id)
        .join(TaskStatus, TaskStatus.id == Task.task_status_id)
        .join(Entity, Entity.id == Task.entity_id)
        .join(EntityType, EntityType.id == Entity.entity_type_id)
        .outerjoin(seq, seq.id == Entity.parent_id)
        .outerjoin(ep, ep.id == seq.parent_id)
        .where(access.project_visible(principal, Task.project_id), *conditions)
        .order_by(Project.name, Entity.name, TaskType.priority, Task.id)
    )
    rows = (await session.execute(stmt)).all()
    assignees = await assignees_of(session, [r[0].id for r in rows])
    out = []
    for task, project_name, has_avatar, entity, et_name, seq_name, ep_id, ep_name, task_type, status in rows:
        row = task.serialize()
        row.update(
            project_name=project_name, project_has_avatar=has_avatar, entity_name=entity.name,
            entity_description=entity.description, entity_data=entity.data,
            entity_preview_file_id=str(entity.preview_file_id) if entity.preview_file_id else "",
            entity_source_id=str(entity.source_id) if entity.source_id else "",
            entity_type_name=et_name, entity_canceled=entity.canceled, sequence_name=seq_name,
            episode_id=str(ep_id) if ep_id else (str(entity.source_id) if entity.source_id else ""),
            episode_name=ep_name, task_type_for_entity=task_type.for_entity,
            task_estimation=task.estimation, task_duration=task.duration, task_start_date=row["start_date"],
            task_due_date=row["due_date"], task_type_name=task_type.name, task_status_name=status.name,
            task_type_color=task_type.color, task_status_color=status.color,
            task_status_short_name=status.short_name, assignees=assignees[task.id], last_comment={},
        )
        out.append(row)
    return out


def assigned_to_person(person_id: uuid.UUID) -> ColumnElement[bool]:
    return exists().where(task_person_link.c.task_id == Task.id, task_person_link.c.person_id == person_id)


def open_project() -> ColumnElement[bool]:
    return ProjectStatus.name == "Open"
