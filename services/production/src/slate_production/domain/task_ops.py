"""Creating, assigning, prioritising, updating and deleting tasks (Zou's rules and events)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.errors import BadRequest, Forbidden, NotFound
from slate_common.security import Principal
from slate_common.serialization import now

from ..models import (
    TEMPORAL_TYPES,
    Entity,
    EntityType,
    Person,
    ProjectTaskTypeLink,
    Task,
    TaskStatus,
    TaskType,
    department_person_link,
    entity_type_task_type_link,
    task_person_link,
)
from ..replicas import PERSONS
from . import access
from .project_settings import join_teams_of_tasks
from .tasks import assignees_of, default_status_id, emit_task_event, serialize_task

TASK_UPDATABLE = {
    "name": str, "description": str, "priority": int, "difficulty": int, "duration": float, "estimation": float,
    "completion_rate": int, "sort_order": int, "start_date": dt.datetime, "due_date": dt.datetime,
    "real_start_date": dt.datetime, "end_date": dt.datetime, "done_date": dt.datetime,
    "last_comment_date": dt.datetime, "nb_assets_ready": int, "data": dict, "nb_drawings": int,
    "task_status_id": uuid.UUID, "retake_count": int, "last_preview_file_id": uuid.UUID,
}


def coerce(key: str, *, value: Any) -> Any:
    kind = TASK_UPDATABLE[key]
    if value is None:
        return None
    try:
        if kind is dt.datetime:
            text = str(value).replace("Z", "")
            parsed = dt.datetime.fromisoformat(text)
            return parsed.replace(tzinfo=None)
        if kind is uuid.UUID:
            return uuid.UUID(str(value))
        if kind is dict:
            if not isinstance(value, dict):
                raise ValueError
            return value
        if kind is int:
            if isinstance(value, bool):
                raise ValueError
            return int(value)
        if kind is float:
            return float(value)
        return str(value)
    except (TypeError, ValueError) as exc:
        raise BadRequest(f"Invalid value for {key}") from exc


async def visible_task(session: AsyncSession, *, principal: Principal, task_id: uuid.UUID) -> Task:
    """A task in the caller's scope (their projects; a vendor's own tasks): 403 out of
    it, 404 when there is no such task, as Zou answers."""
    task = (await session.scalars(select(Task).where(
        Task.id == task_id, access.project_visible(principal, project_col=Task.project_id)))).first()
    if task is None:
        if await session.get(Task, task_id) is not None:
            raise Forbidden()
        raise NotFound()
    if principal.is_vendor and not await _is_assigned(session, task.id, principal.id):
        raise Forbidden()
    return task


async def _is_assigned(session: AsyncSession, task_id: uuid.UUID, person_id: uuid.UUID) -> bool:
    return bool(await session.scalar(select(task_person_link.c.task_id).where(
        task_person_link.c.task_id == task_id, task_person_link.c.person_id == person_id)))


async def with_names(session: AsyncSession, *, tasks: list[Task]) -> list[dict[str, Any]]:
    """Tasks as Zou's create-tasks answers: with assignees, status and type names."""
    assignees = await assignees_of(session, task_ids=[t.id for t in tasks])
    statuses = {s.id: s for s in await session.scalars(
        select(TaskStatus).where(TaskStatus.id.in_({t.task_status_id for t in tasks})))}
    types = {t.id: t for t in await session.scalars(
        select(TaskType).where(TaskType.id.in_({t.task_type_id for t in tasks})))}
    out = []
    for task in tasks:
        row = serialize_task(task, assignees=assignees[task.id])
        status, task_type = statuses[task.task_status_id], types[task.task_type_id]
        row.update(task_status_name=status.name, task_status_short_name=status.short_name,
                   task_status_color=status.color, task_type_name=task_type.name,
                   task_type_color=task_type.color, task_type_priority=task_type.priority)
        out.append(row)
    return out


async def create_tasks(
    session: AsyncSession, *, principal: Principal, project_id: uuid.UUID, task_type_id: uuid.UUID,
    kind: str, entity_ids: list[uuid.UUID] | None, name: str = "main", extra: dict[str, Any] | None = None,
) -> list[Task]:
    """One task of ``task_type_id`` per entity (all of the project's ``kind`` entities
    when no ids are given); entities that already have one are skipped. Managers."""
    await access.check_manager(session, principal=principal, project_id=project_id)
    if await session.get(TaskType, task_type_id) is None:
        raise NotFound()
    stmt = (select(Entity).join(EntityType, EntityType.id == Entity.entity_type_id)
            .where(Entity.project_id == project_id))
    if kind == "Asset":
        stmt = stmt.where(EntityType.name.not_in(TEMPORAL_TYPES))
    elif kind:
        stmt = stmt.where(EntityType.name == kind)
    if entity_ids is not None:
        stmt = stmt.where(Entity.id.in_(entity_ids))
    entities = list((await session.scalars(stmt.order_by(Entity.name))).all())
    existing = set((await session.scalars(select(Task.entity_id).where(
        Task.task_type_id == task_type_id, Task.name == name, Task.entity_id.in_([e.id for e in entities])))).all())
    status_id = await default_status_id(session)
    created = []
    for entity in entities:
        if entity.id in existing:
            continue
        task = Task(name=name, project_id=project_id, entity_id=entity.id, task_type_id=task_type_id,
                    task_status_id=status_id, assigner_id=principal.id, **(extra or {}))
        session.add(task)
        created.append(task)
    await session.flush()
    for task in created:
        await emit_task_event(session, name="task:new", task=task, actor_id=principal.id)
    return created


async def create_entity_tasks(session: AsyncSession, *, principal: Principal, entity: Entity,
                              task_type_ids: list[uuid.UUID]) -> list[Task]:
    """One ``main`` task per task type for one entity (managers). Without ids, every task
    type valid for it: enabled in its project, for its kind of entity and, for an asset
    whose type has a workflow, in that workflow. Given ids are all checked first (unknown:
    404; wrong kind, not enabled, outside the workflow: 400, nothing created); a type the
    entity already has a task of is skipped."""
    await access.check_manager(session, principal=principal, project_id=entity.project_id)
    entity_type = await session.get(EntityType, entity.entity_type_id)
    kind = "Asset" if entity_type is None or entity_type.is_asset_type else entity_type.name
    enabled = set((await session.scalars(select(ProjectTaskTypeLink.task_type_id).where(
        ProjectTaskTypeLink.project_id == entity.project_id))).all())
    workflow = set((await session.scalars(select(entity_type_task_type_link.c.task_type_id).where(
        entity_type_task_type_link.c.entity_type_id == entity.entity_type_id))).all()) if kind == "Asset" else set()
    if task_type_ids:
        wanted = list(dict.fromkeys(task_type_ids))  # a type given twice makes one task
        found = {t.id: t for t in (await session.scalars(select(TaskType).where(TaskType.id.in_(wanted)))).all()}
        if any(i not in found for i in wanted):
            raise NotFound()
        types = [found[i] for i in wanted]
        for task_type in types:
            if task_type.for_entity != kind:
                raise BadRequest(f"Task type {task_type.id} is for {task_type.for_entity} entities, got {kind}.")
            if task_type.id not in enabled:
                raise BadRequest(f"Task type {task_type.id} is not enabled in project {entity.project_id}.")
            if workflow and task_type.id not in workflow:
                raise BadRequest(f"Task type {task_type.id} is not in the workflow of asset type "
                                 f"{entity.entity_type_id}.")
    else:
        types = list((await session.scalars(select(TaskType).where(
            TaskType.id.in_(enabled), TaskType.for_entity == kind,
            *([TaskType.id.in_(workflow)] if workflow else []),
        ).order_by(TaskType.priority, TaskType.name))).all())
    existing = set((await session.scalars(select(Task.task_type_id).where(Task.entity_id == entity.id))).all())
    status_id = await default_status_id(session)
    created = []
    for task_type in types:
        if task_type.id in existing:
            continue
        task = Task(name="main", project_id=entity.project_id, entity_id=entity.id, task_type_id=task_type.id,
                    task_status_id=status_id, assigner_id=principal.id)
        session.add(task)
        created.append(task)
    await session.flush()
    for task in created:
        await emit_task_event(session, name="task:new", task=task, actor_id=principal.id)
    return created


async def update_task(session: AsyncSession, *, principal: Principal, task: Task, body: dict[str, Any]) -> Task:
    """A supervisor's or manager's edit of a task's fields (a status change here has no
    side effects, as in Zou; the comment flow uses tasks.change_status)."""
    await access.check_supervisor(session, principal=principal, project_id=task.project_id)
    for key, value in body.items():
        if key not in TASK_UPDATABLE:
            continue
        value = coerce(key, value=value)
        if key == "task_status_id" and (value is None or await session.get(TaskStatus, value) is None):
            raise BadRequest("Task status not found")
        if key in ("name", "priority", "difficulty", "duration", "estimation", "completion_rate", "sort_order",
                   "nb_assets_ready", "nb_drawings", "retake_count") and value is None:
            raise BadRequest(f"{key} cannot be null")
        setattr(task, key, value)
    await session.flush()
    await emit_task_event(session, name="task:update", task=task, actor_id=principal.id)
    return task


async def assign(session: AsyncSession, *, principal: Principal, task_ids: list[uuid.UUID],
                 person_id: uuid.UUID) -> list[Task]:
    """Add an assignee to tasks the caller supervises (others are skipped); task:assign each,
    and the assignee joins the teams of their projects (:func:`join_teams_of_tasks`).
    The caller becomes the task's assigner, also when the person was assigned already (Zou)."""
    if await PERSONS.get(session, row_id=person_id) is None:
        raise NotFound()
    tasks = await _in_departments(session, principal, person_id=person_id, tasks=await _supervised(
        session, principal, task_ids, own_departments=person_id == principal.id))
    await join_teams_of_tasks(session, actor_id=principal.id, person_id=person_id, project_ids=[t.project_id for t in tasks])
    for task in tasks:
        inserted = await session.execute(
            insert(task_person_link).values(task_id=task.id, person_id=person_id)
            .on_conflict_do_nothing().returning(task_person_link.c.task_id)
        )
        if inserted.first() is not None:
            task.assigner_id = principal.id
            task.updated_at = now()  # its assignees changed
            await session.flush()
            await emit_task_event(session, name="task:assign", task=task, actor_id=principal.id, person_id=str(person_id))
        elif task.assigner_id != principal.id:
            task.assigner_id = principal.id
            task.updated_at = now()
            await session.flush()
            await emit_task_event(session, name="task:update", task=task, actor_id=principal.id)
    return tasks


async def clear_assignation(session: AsyncSession, *, principal: Principal, task_ids: list[uuid.UUID],
                            person_id: uuid.UUID | None) -> list[Task]:
    """Remove one assignee (or all) from tasks the caller supervises; task:unassign each."""
    tasks = await _supervised(session, principal, task_ids)
    for task in tasks:
        stmt = delete(task_person_link).where(task_person_link.c.task_id == task.id)
        if person_id is not None:
            stmt = stmt.where(task_person_link.c.person_id == person_id)
        removed = (await session.execute(stmt.returning(task_person_link.c.person_id))).scalars().all()
        if removed:
            task.updated_at = now()  # its assignees changed
            await session.flush()
        for removed_id in removed:
            await emit_task_event(session, name="task:unassign", task=task, actor_id=principal.id, person_id=str(removed_id))
    return tasks


async def set_priority(session: AsyncSession, *, principal: Principal, task_ids: list[uuid.UUID],
                       priority: Any) -> list[Task]:
    tasks = await _supervised(session, principal, task_ids)
    value = coerce("priority", value=priority)
    if value is None:
        raise BadRequest("priority is required")
    for task in tasks:
        task.priority = value
    await session.flush()
    for task in tasks:
        await emit_task_event(session, name="task:update", task=task, actor_id=principal.id)
    return tasks


async def _departments_of(session: AsyncSession, person_id: uuid.UUID) -> set[uuid.UUID]:
    rows = await session.scalars(select(department_person_link.c.department_id)
                                 .where(department_person_link.c.person_id == person_id))
    return set(rows)


async def _in_departments(session: AsyncSession, principal: Principal, *, tasks: list[Task],
                          person_id: uuid.UUID) -> list[Task]:
    """What a supervisor (their role on the task's project) may assign, as Zou 1.0.97 answers
    it: one without departments, any task of their projects; one with departments, the tasks
    whose type belongs to one of them, and only to a person who shares one of them with the
    supervisor (observed on the oracle; a task type without a department is not theirs).
    Managers and admins are not limited."""
    supervised = {pid for pid in {t.project_id for t in tasks}
                  if await access.project_role(session, principal=principal, project_id=pid) == "supervisor"}
    if not supervised:
        return tasks
    mine = await _departments_of(session, principal.id)
    if not mine:
        return tasks
    shares = bool(mine & await _departments_of(session, person_id))
    types = set(await session.scalars(select(TaskType.id).where(TaskType.department_id.in_(mine))))
    return [t for t in tasks if t.project_id not in supervised or (shares and t.task_type_id in types)]


async def _supervised(session: AsyncSession, principal: Principal, task_ids: list[uuid.UUID],
                      own_departments: bool = False) -> list[Task]:
    """The tasks among ``task_ids`` the caller may change (supervisor+ in their project,
    by their role on that project); the others are skipped, as Zou does. With
    ``own_departments`` (assigning oneself) also, in the caller's projects, the tasks whose
    type is of one of their departments: Zou 1.0.97 lets an artist or a client of the team
    assign themself those (observed; a type without a department, someone else: 403)."""
    if not task_ids:
        return []
    stmt = select(Task).where(Task.id.in_(task_ids), access.project_visible(principal, project_col=Task.project_id))
    tasks = list((await session.scalars(stmt.order_by(Task.created_at, Task.id).with_for_update())).all())
    roles = {pid: await access.project_role(session, principal=principal, project_id=pid) for pid in {t.project_id for t in tasks}}
    mine: set[uuid.UUID] = set()
    if own_departments and any(roles[t.project_id] not in access.SUPERVISORS for t in tasks):
        departments = await _departments_of(session, principal.id)
        mine = set(await session.scalars(select(TaskType.id).where(TaskType.department_id.in_(departments))))
    return [t for t in tasks if roles[t.project_id] in access.SUPERVISORS
            or (roles[t.project_id] is not None and t.task_type_id in mine)]


async def delete_tasks(session: AsyncSession, *, principal: Principal, tasks: list[Task]) -> list[str]:
    """Delete tasks (managers of their projects); task:delete each."""
    for project_id in {t.project_id for t in tasks}:
        await access.check_manager(session, principal=principal, project_id=project_id)
    for task in tasks:
        await emit_task_event(session, name="task:delete", task=task, actor_id=principal.id)
    ids = [t.id for t in tasks]
    if ids:
        await session.execute(delete(Task).where(Task.id.in_(ids)))
    return [str(i) for i in ids]


async def get_person(session: AsyncSession, *, person_id: uuid.UUID) -> Person:
    person = await PERSONS.get(session, row_id=person_id)
    if person is None:
        raise NotFound()
    return person  # type: ignore[no-any-return]
