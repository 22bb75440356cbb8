"""Task rows as Kitsu's to-do pages read them (``/data/user/tasks-to-check``,
``/data/user/done-tasks``): the task with its project, entity, type and status names and
its last comment, built in one set-based query plus one for assignees."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, exists, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from slate_common.security import Principal
from slate_common.serialization import serialize_value

from ..models import (
    Comment,
    Entity,
    EntityType,
    Project,
    ProjectStatus,
    Task,
    TaskStatus,
    TaskType,
    department_person_link,
    project_person_link,
    task_person_link,
)
from .projects import OPEN
from .tasks import assignees_of, serialize_task


def _base() -> Select[Any]:
    parent = aliased(Entity)
    grandparent = aliased(Entity)
    last = (
        select(Comment.text, Comment.created_at, Comment.person_id)
        .where(Comment.object_id == Task.id).order_by(Comment.created_at.desc()).limit(1)
        .correlate(Task).lateral("last_comment")
    )
    return (
        select(Task, Project.name, Project.has_avatar, Entity, EntityType.name, parent, grandparent,
               TaskType, TaskStatus, last.c.text, last.c.created_at, last.c.person_id)
        .join(Project, Project.id == Task.project_id)
        .join(ProjectStatus, ProjectStatus.id == Project.project_status_id)
        .join(Entity, Entity.id == Task.entity_id)
        .join(EntityType, EntityType.id == Entity.entity_type_id)
        .outerjoin(parent, parent.id == Entity.parent_id)
        .outerjoin(grandparent, grandparent.id == parent.parent_id)
        .join(TaskType, TaskType.id == Task.task_type_id)
        .join(TaskStatus, TaskStatus.id == Task.task_status_id)
        .outerjoin(last, true())
        .where(ProjectStatus.name == OPEN)
    )


async def _rows(session: AsyncSession, stmt: Select[Any]) -> list[dict[str, Any]]:
    rows = (await session.execute(stmt)).all()
    assignees = await assignees_of(session, [r[0].id for r in rows])
    out = []
    for (task, project_name, project_has_avatar, entity, type_name, parent, grandparent, task_type, status,
         last_text, last_date, last_person) in rows:
        is_shot = type_name in ("Shot", "Scene")
        episode = grandparent if is_shot else (parent if type_name == "Sequence" else None)
        row = serialize_task(task, assignees[task.id])
        row.pop("assignees")
        row.update(
            project_name=project_name, project_has_avatar=project_has_avatar,
            entity_name=entity.name, entity_description=entity.description, entity_data=entity.data or {},
            entity_preview_file_id=serialize_value(entity.preview_file_id) or "",
            entity_source_id=serialize_value(entity.source_id) or "", entity_type_name=type_name,
            entity_canceled=entity.canceled, sequence_name=parent.name if is_shot and parent else None,
            episode_id=serialize_value(episode.id) if episode else "",
            episode_name=episode.name if episode else None, task_type_for_entity=task_type.for_entity,
            task_estimation=task.estimation, task_duration=task.duration,
            task_start_date=serialize_value(task.start_date), task_due_date=serialize_value(task.due_date),
            task_type_name=task_type.name, task_status_name=status.name, task_type_color=task_type.color,
            task_status_color=status.color, task_status_short_name=status.short_name,
            assignees=assignees[task.id],
            last_comment=({"text": last_text, "date": serialize_value(last_date), "person_id": str(last_person)}
                          if last_date is not None else {}),
        )
        out.append(row)
    return out


def _to_check_stmt(principal: Principal) -> Select[Any]:
    """Feedback requests in the projects where the caller is a manager or supervisor
    (their project role when set, else their studio role); as a supervisor, only the
    task types of their departments when they have any."""
    stmt = _base().where(TaskStatus.is_feedback_request.is_(True))
    if principal.is_admin:
        return stmt.order_by(Task.last_comment_date.desc().nulls_last(), Task.id)
    link = project_person_link
    role = func.coalesce(link.c.role, principal.role)
    stmt = stmt.where(exists().where(link.c.project_id == Task.project_id, link.c.person_id == principal.id,
                                     role.in_(("manager", "supervisor"))))
    departments = select(department_person_link.c.department_id).where(
        department_person_link.c.person_id == principal.id)
    supervising = exists().where(link.c.project_id == Task.project_id, link.c.person_id == principal.id,
                                 role == "supervisor")
    stmt = stmt.where(or_(~supervising, ~exists(departments), TaskType.department_id.in_(departments)))
    return stmt.order_by(Task.last_comment_date.desc().nulls_last(), Task.id)


async def tasks_to_check(session: AsyncSession, principal: Principal) -> list[dict[str, Any]]:
    """Tasks waiting for feedback in the caller's open projects (:func:`_to_check_stmt`;
    artists, clients and vendors: none)."""
    return await _rows(session, _to_check_stmt(principal))


async def tasks_to_check_filter_values(session: AsyncSession, principal: Principal) -> dict[str, list[str]]:
    rows = await tasks_to_check(session, principal)

    def distinct(key: str) -> list[str]:
        return list(dict.fromkeys(r[key] for r in rows if r.get(key)))

    persons = list(dict.fromkeys(p for r in rows for p in r["assignees"]))
    return {"project_ids": distinct("project_id"), "task_type_ids": distinct("task_type_id"),
            "task_status_ids": distinct("task_status_id"), "episode_ids": distinct("episode_id"),
            "person_ids": persons}


async def done_tasks(session: AsyncSession, person_id: uuid.UUID,
                     viewer: Principal | None = None) -> list[dict[str, Any]]:
    """Tasks assigned to ``person_id`` whose status is a done one, in open projects
    (and, for a viewer other than an admin, only in projects the viewer is in)."""
    stmt = (
        _base().where(TaskStatus.is_done.is_(True))
        .where(exists().where(task_person_link.c.task_id == Task.id, task_person_link.c.person_id == person_id))
        .order_by(Task.end_date.desc().nulls_last(), Task.done_date.desc().nulls_last(), Task.id)
    )
    if viewer is not None and not viewer.is_admin and viewer.id != person_id:
        stmt = stmt.where(exists().where(project_person_link.c.project_id == Task.project_id,
                                         project_person_link.c.person_id == viewer.id))
    return await _rows(session, stmt)
