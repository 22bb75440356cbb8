"""A project's team and settings: the task types, task statuses and asset types it uses
and their order. Every change is a manager's and emits project:update (the snapshot
carries the team)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.errors import BadRequest, NotFound
from slate_common.security import Principal
from slate_common.serialization import now

from ..models import (
    Entity,
    EntityType,
    Person,
    Project,
    ProjectTaskStatusLink,
    ProjectTaskTypeLink,
    TaskStatus,
    TaskType,
    project_asset_type_link,
    project_person_link,
)
from ..replicas import PERSONS
from . import access
from .people import serialize_persons
from .projects import emit_project_event
from .user_context import CLIENT_PERSON_FIELDS, PERSON_CONTEXT_FIELDS


async def _managed(session: AsyncSession, principal: Principal, project_id: uuid.UUID) -> Project:
    project = await access.readable_project(session, principal=principal, project_id=project_id)
    await access.check_manager(session, principal=principal, project_id=project_id)
    return project


async def _changed(session: AsyncSession, principal: Principal, project: Project) -> Project:
    project.updated_at = now()  # its settings changed
    await session.flush()
    await emit_project_event(session, verb="update", project=project, actor_id=principal.id)
    return project


# --- team ----------------------------------------------------------------------------


async def team(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID) -> list[dict[str, Any]]:
    """The team with each member's ``project_role``: in full to admins and managers; to
    others the fields of the user context's persons, without departments; to clients
    names and roles only (Zou's answers)."""
    rows = await session.execute(
        select(Person, project_person_link.c.role).join(project_person_link, project_person_link.c.person_id == Person.id)
        .where(project_person_link.c.project_id == project_id).order_by(Person.first_name, Person.last_name)
    )
    pairs = list(rows)
    out = await serialize_persons(session, persons=[person for person, _ in pairs])
    if principal.role not in ("admin", "manager"):
        fields = CLIENT_PERSON_FIELDS if principal.is_client else PERSON_CONTEXT_FIELDS
        out = [{key: [] if key == "departments" else row.get(key) for key in fields} for row in out]
    for row, (_, project_role) in zip(out, pairs, strict=True):
        row["project_role"] = project_role
    return out


TEAM_ROLES = ("user", "supervisor", "manager", "client", "vendor")


async def set_team_role(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID, person_id: uuid.UUID,
                        role: Any) -> dict[str, Any]:
    """A person's role on this production only (None restores their studio role)."""
    await _managed(session, principal, project_id)
    if role is not None and role not in TEAM_ROLES:
        raise BadRequest(f"Invalid role: {role}")
    updated = await session.execute(
        project_person_link.update()
        .where(project_person_link.c.project_id == project_id, project_person_link.c.person_id == person_id)
        .values(role=role).returning(project_person_link.c.person_id)
    )
    if updated.first() is None:
        raise NotFound()
    return {"project_id": str(project_id), "person_id": str(person_id), "role": role}


async def add_to_team(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID, person_id: uuid.UUID) -> Project:
    project = await _managed(session, principal, project_id)
    if await PERSONS.get(session, row_id=person_id) is None:
        raise NotFound()
    await session.execute(
        insert(project_person_link).values(project_id=project_id, person_id=person_id).on_conflict_do_nothing()
    )
    return await _changed(session, principal, project)


async def join_teams_of_tasks(session: AsyncSession, *, actor_id: uuid.UUID, person_id: uuid.UUID,
                              project_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    """Assigning a task puts the assignee in its project's team, as Zou does (observed on
    1.0.97: ``PUT /actions/persons/<id>/assign`` and ``/actions/tasks/<id>/assign``, by
    admins, managers and supervisors alike, an inactive person too; creating a task with
    ``assignees`` does not, nor does removing an assignation take anyone out). Part of the
    assignment's transaction; each project whose team grew gets ``project:update`` (its
    snapshot carries the team, which media and planning replicate and the assigner waits
    for). Returns those projects."""
    joined = []
    for project_id in sorted(set(project_ids)):  # one order: two assignments never deadlock
        inserted = await session.execute(
            insert(project_person_link).values(project_id=project_id, person_id=person_id)
            .on_conflict_do_nothing().returning(project_person_link.c.project_id)
        )
        if inserted.first() is None:
            continue  # already in the team: nothing changed, no event
        project = await session.get(Project, project_id)
        if project is None:
            continue
        # an UPDATE (a no-key lock, which the link's foreign key check does not block, unlike
        # SELECT ... FOR UPDATE: two assignments into one project deadlocked so), then the
        # snapshot, read after the lock: the later of two team changes has the newer team
        project.updated_at = now()  # its team changed
        await session.flush()
        await emit_project_event(session, verb="update", project=project, actor_id=actor_id)
        joined.append(project_id)
    return joined


async def remove_from_team(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID,
                           person_id: uuid.UUID) -> None:
    project = await _managed(session, principal, project_id)
    await session.execute(delete(project_person_link).where(
        project_person_link.c.project_id == project_id, project_person_link.c.person_id == person_id))
    await _changed(session, principal, project)


# --- asset types ---------------------------------------------------------------------


async def add_asset_type(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID,
                         asset_type_id: uuid.UUID) -> Project:
    project = await _managed(session, principal, project_id)
    if await session.get(EntityType, asset_type_id) is None:
        raise NotFound()
    await session.execute(insert(project_asset_type_link).values(
        project_id=project_id, asset_type_id=asset_type_id).on_conflict_do_nothing())
    return await _changed(session, principal, project)


async def remove_asset_type(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID,
                            asset_type_id: uuid.UUID) -> None:
    project = await _managed(session, principal, project_id)
    await session.execute(delete(project_asset_type_link).where(
        project_asset_type_link.c.project_id == project_id, project_asset_type_link.c.asset_type_id == asset_type_id))
    await _changed(session, principal, project)


async def used_asset_types(session: AsyncSession, *, project_id: uuid.UUID) -> list[dict[str, Any]]:
    """Asset types of the project's assets (Zou's /data/projects/<id>/asset-types)."""
    used = select(Entity.entity_type_id).where(Entity.project_id == project_id)
    rows = await session.scalars(select(EntityType).where(EntityType.id.in_(used)).order_by(EntityType.name))
    return [row.serialize(exclude=frozenset()) | {"type": "AssetType"} for row in rows if row.is_asset_type]


# --- task types ----------------------------------------------------------------------


async def upsert_task_type_link(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID,
                                task_type_id: uuid.UUID, priority: Any = None,
                                keep_priority: bool = False) -> ProjectTaskTypeLink:
    await _managed(session, principal, project_id)
    if await session.get(TaskType, task_type_id) is None:
        raise NotFound()
    if priority is not None:
        try:
            priority = int(priority)
        except (TypeError, ValueError) as exc:
            raise BadRequest("priority must be an integer") from exc
    link = await session.scalar(select(ProjectTaskTypeLink).where(
        ProjectTaskTypeLink.project_id == project_id, ProjectTaskTypeLink.task_type_id == task_type_id))
    if link is None:
        link = ProjectTaskTypeLink(project_id=project_id, task_type_id=task_type_id, priority=priority)
        session.add(link)
    elif not keep_priority:
        link.priority = priority
    await session.flush()
    return link


async def link_task_type(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID,
                         task_type_id: uuid.UUID, priority: Any = None) -> Project:
    await upsert_task_type_link(session, principal=principal, project_id=project_id, task_type_id=task_type_id, priority=priority,
                                keep_priority=priority is None)
    return await _changed(session, principal, await access.readable_project(session, principal=principal, project_id=project_id))


async def unlink_task_type(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID,
                           task_type_id: uuid.UUID) -> None:
    project = await _managed(session, principal, project_id)
    await session.execute(delete(ProjectTaskTypeLink).where(
        ProjectTaskTypeLink.project_id == project_id, ProjectTaskTypeLink.task_type_id == task_type_id))
    await _changed(session, principal, project)


async def task_types(session: AsyncSession, *, project_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(TaskType).join(ProjectTaskTypeLink, ProjectTaskTypeLink.task_type_id == TaskType.id)
        .where(ProjectTaskTypeLink.project_id == project_id)
        .order_by(ProjectTaskTypeLink.priority.nulls_last(), TaskType.priority, TaskType.name)
    )
    return [row.serialize() for row in rows]


async def reorder_task_types(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID,
                             task_type_ids: list[uuid.UUID]) -> list[ProjectTaskTypeLink]:
    """Priority 1, 2, ... in the given order (admins)."""
    access.check_admin(principal)
    links = []
    for position, task_type_id in enumerate(task_type_ids, start=1):
        links.append(await upsert_task_type_link(session, principal=principal, project_id=project_id, task_type_id=task_type_id, priority=position))
    await _changed(session, principal, await access.readable_project(session, principal=principal, project_id=project_id))
    return links


# --- task statuses -------------------------------------------------------------------


async def upsert_task_status_link(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID,
                                  task_status_id: uuid.UUID, values: dict[str, Any]) -> ProjectTaskStatusLink:
    await _managed(session, principal, project_id)
    if await session.get(TaskStatus, task_status_id) is None:
        raise NotFound()
    link = await session.scalar(select(ProjectTaskStatusLink).where(
        ProjectTaskStatusLink.project_id == project_id, ProjectTaskStatusLink.task_status_id == task_status_id))
    if link is None:
        link = ProjectTaskStatusLink(project_id=project_id, task_status_id=task_status_id)
        session.add(link)
    _apply_status_link(link, values)
    await session.flush()
    return link


def _apply_status_link(link: ProjectTaskStatusLink, values: dict[str, Any]) -> None:
    if "priority" in values:
        priority = values["priority"]
        try:
            link.priority = None if priority is None else int(priority)
        except (TypeError, ValueError) as exc:
            raise BadRequest("priority must be an integer") from exc
    if "roles_for_board" in values:
        roles = values["roles_for_board"]
        if not isinstance(roles, list) or any(r not in ("admin", "manager", "supervisor", "user", "client", "vendor")
                                              for r in roles):
            raise BadRequest("roles_for_board must be a list of roles")
        link.roles_for_board = roles
    if "is_client_allowed" in values:
        allowed = values["is_client_allowed"]
        link.is_client_allowed = None if allowed is None else bool(allowed)


async def link_task_status(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID,
                           task_status_id: uuid.UUID, priority: Any = None) -> Project:
    values = {"priority": priority} if priority is not None else {}
    await upsert_task_status_link(session, principal=principal, project_id=project_id, task_status_id=task_status_id, values=values)
    return await _changed(session, principal, await access.readable_project(session, principal=principal, project_id=project_id))


async def update_task_status_link(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID,
                                  task_status_id: uuid.UUID, values: dict[str, Any]) -> ProjectTaskStatusLink:
    """``values``: the route's checked body (Zou checks it first, for every caller:
    ``is_client_allowed`` is required)."""
    await _managed(session, principal, project_id)
    link = await session.scalar(select(ProjectTaskStatusLink).where(
        ProjectTaskStatusLink.project_id == project_id, ProjectTaskStatusLink.task_status_id == task_status_id))
    if link is None:
        raise NotFound()
    _apply_status_link(link, values)
    await session.flush()
    await _changed(session, principal, await access.readable_project(session, principal=principal, project_id=project_id))
    return link


async def unlink_task_status(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID,
                             task_status_id: uuid.UUID) -> None:
    project = await _managed(session, principal, project_id)
    await session.execute(delete(ProjectTaskStatusLink).where(
        ProjectTaskStatusLink.project_id == project_id, ProjectTaskStatusLink.task_status_id == task_status_id))
    await _changed(session, principal, project)


async def task_statuses(session: AsyncSession, *, project_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(TaskStatus).join(ProjectTaskStatusLink, ProjectTaskStatusLink.task_status_id == TaskStatus.id)
        .where(ProjectTaskStatusLink.project_id == project_id)
        .order_by(ProjectTaskStatusLink.priority.nulls_last(), TaskStatus.name)
    )
    return [row.serialize() for row in rows]


async def reorder_task_statuses(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID,
                                task_status_ids: list[uuid.UUID]) -> list[ProjectTaskStatusLink]:
    """Priority 1, 2, ... in the given order (admins)."""
    access.check_admin(principal)
    links = []
    for position, task_status_id in enumerate(task_status_ids, start=1):
        links.append(await upsert_task_status_link(session, principal=principal, project_id=project_id, task_status_id=task_status_id,
                                                   values={"priority": position}))
    await _changed(session, principal, await access.readable_project(session, principal=principal, project_id=project_id))
    return links


async def batch(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID,
                task_types: Sequence[tuple[uuid.UUID, int | None]], replace_task_types: bool,
                task_status_ids: Sequence[uuid.UUID], asset_type_ids: Sequence[uuid.UUID]) -> Project:
    """Several task types (``(id, priority)``), task statuses and asset types at once;
    unknown ids are skipped; ``replace_task_types`` makes the task type list the full set."""
    project = await _managed(session, principal, project_id)
    wanted: list[uuid.UUID] = []
    for task_type_id, priority in task_types:
        if await session.get(TaskType, task_type_id) is None:
            continue
        wanted.append(task_type_id)
        await upsert_task_type_link(session, principal=principal, project_id=project_id, task_type_id=task_type_id,
                                    priority=priority)
    if replace_task_types:
        await session.execute(delete(ProjectTaskTypeLink).where(
            ProjectTaskTypeLink.project_id == project_id, ProjectTaskTypeLink.task_type_id.not_in(wanted)))
    for status_id in task_status_ids:
        if await session.get(TaskStatus, status_id) is not None:
            await upsert_task_status_link(session, principal=principal, project_id=project_id, task_status_id=status_id, values={})
    for asset_type_id in asset_type_ids:
        if await session.get(EntityType, asset_type_id) is not None:
            await session.execute(insert(project_asset_type_link).values(
                project_id=project_id, asset_type_id=asset_type_id).on_conflict_do_nothing())
    return await _changed(session, principal, project)


async def reorder_global_task_types(session: AsyncSession, *, principal: Principal,
                                    task_type_ids: list[uuid.UUID]) -> list[TaskType]:
    """Studio-wide order of task types (admins): priority 1, 2, ... in the given order."""
    access.check_admin(principal)
    out = []
    for position, task_type_id in enumerate(task_type_ids, start=1):
        task_type = await session.get(TaskType, task_type_id)
        if task_type is None:
            continue
        task_type.priority = position
        out.append(task_type)
    await session.flush()
    from slate_common.events import emit

    for task_type in out:
        emit(session, name="task-type:update", data={"task_type_id": str(task_type.id), "snapshot": task_type.serialize()},
             actor_id=principal.id)
    return out


async def episode_stats(session: AsyncSession, *, project_id: uuid.UUID) -> dict[str, Any]:
    """{episode: {task type: {status: {name, color, count, frames, drawings}}}} for shot
    tasks, plus an "all" episode and, in each episode, an "all" task type summing them,
    as Zou's episode stats."""
    from sqlalchemy import func
    from sqlalchemy.orm import aliased

    from ..models import Task

    seq = aliased(Entity)
    stmt = (
        select(seq.parent_id, Task.task_type_id, Task.task_status_id, TaskStatus.short_name, TaskStatus.color,
               func.count(Task.id), func.coalesce(func.sum(Entity.nb_frames), 0),
               func.coalesce(func.sum(Task.nb_drawings), 0))
        .join(Entity, Entity.id == Task.entity_id)
        .join(seq, seq.id == Entity.parent_id)
        .join(TaskStatus, TaskStatus.id == Task.task_status_id)
        .where(Task.project_id == project_id, seq.parent_id.is_not(None))
        .group_by(seq.parent_id, Task.task_type_id, Task.task_status_id, TaskStatus.short_name, TaskStatus.color)
    )
    out: dict[str, Any] = {}
    for episode_id, tt, ts, name, color, count, frames, drawings in await session.execute(stmt):
        for key in (str(episode_id), "all"):
            for type_key in (str(tt), "all"):
                cell = out.setdefault(key, {}).setdefault(type_key, {}).setdefault(
                    str(ts), {"name": name, "color": color, "count": 0, "frames": 0, "drawings": 0})
                cell["count"] += int(count or 0)
                cell["frames"] += int(frames or 0)
                cell["drawings"] += int(drawings or 0)
    return out
