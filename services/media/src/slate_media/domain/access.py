"""Who may see and change what, from the replicas of production's projects and tasks.

As Zou answers: a thing that does not exist is a 404; a thing that exists outside the
caller's projects (or, for a vendor, on a task not assigned to them) is a 403, and so is
an action beyond the caller's role. Listings are scoped in their base query
(:func:`scope_previews`): no query parameter can widen them.
"""

from __future__ import annotations

import uuid
from typing import TypeVarTuple

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.errors import Forbidden, NotFound
from slate_common.tokens import Principal

from ..consumers import PROJECTS, TASKS
from ..models import PreviewFile, ProjectReplica, TaskReplica

SUPERVISORS = ("admin", "manager", "supervisor")
Columns = TypeVarTuple("Columns")


def scope_previews(stmt: Select[*Columns], *, principal: Principal) -> Select[*Columns]:
    """Previews of tasks in the caller's projects (a vendor: only tasks assigned to them)."""
    if principal.is_admin:
        return stmt
    stmt = (
        stmt.join(TaskReplica, TaskReplica.id == PreviewFile.task_id)
        .join(ProjectReplica, ProjectReplica.id == TaskReplica.project_id)
        .where(ProjectReplica.team.any(principal.id))  # type: ignore[arg-type]
    )
    if principal.is_vendor:
        stmt = stmt.where(TaskReplica.assignees.any(principal.id))  # type: ignore[arg-type]
    return stmt


async def project_visible(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID) -> ProjectReplica:
    """The project, if the caller is in its team (admins: any); 404 if it does not exist."""
    project = await PROJECTS.get(session, row_id=project_id)
    if project is None:
        raise NotFound()
    if not principal.is_admin and principal.id not in (project.team or []):
        raise Forbidden()
    return project  # type: ignore[no-any-return]


async def check_task_seen(session: AsyncSession, *, principal: Principal, task: TaskReplica) -> None:
    """403 unless the task is in one of the caller's projects (a vendor: assigned to them)."""
    if principal.is_admin:
        return
    project = await PROJECTS.get(session, row_id=task.project_id) if task.project_id else None
    if project is None or principal.id not in (project.team or []):
        raise Forbidden()
    if principal.is_vendor and principal.id not in (task.assignees or []):
        raise Forbidden()


async def task_visible(session: AsyncSession, *, principal: Principal, task_id: uuid.UUID) -> TaskReplica:
    task = await TASKS.get(session, row_id=task_id)
    if task is None:
        raise NotFound()
    await check_task_seen(session, principal=principal, task=task)
    return task  # type: ignore[no-any-return]


async def check_preview_seen(session: AsyncSession, *, principal: Principal, preview: PreviewFile) -> None:
    """403 unless the caller sees the preview's task (a preview of no task: admins only)."""
    if principal.is_admin:
        return
    task = await TASKS.get(session, row_id=preview.task_id) if preview.task_id else None
    if task is None:
        raise Forbidden()
    await check_task_seen(session, principal=principal, task=task)


async def check_entity_seen(session: AsyncSession, *, principal: Principal, entity_id: uuid.UUID,
                            project_id: uuid.UUID | None) -> None:
    """403 unless the entity is in one of the caller's projects; a vendor must be assigned
    to one of its tasks."""
    if principal.is_admin:
        return
    project = await PROJECTS.get(session, row_id=project_id) if project_id else None
    if project is None or principal.id not in (project.team or []):
        raise Forbidden()
    if principal.is_vendor:
        assigned = await session.scalar(
            select(TaskReplica.id).where(TaskReplica.entity_id == entity_id,
                                         TaskReplica.assignees.any(principal.id)).limit(1)  # type: ignore[arg-type]
        )
        if assigned is None:
            raise Forbidden()


def check_task_action(principal: Principal, *, task: TaskReplica, clients: bool = False) -> None:
    """Posting previews and setting main previews: supervisors and up on their
    projects; artists and vendors on tasks assigned to them; clients of the project
    where Zou lets them (adding a preview to a comment, ordering previews)."""
    if principal.role in SUPERVISORS or (clients and principal.is_client):
        return
    if principal.role in ("user", "vendor") and principal.id in (task.assignees or []):
        return
    raise Forbidden()


def check_main_preview(principal: Principal, *, task: TaskReplica) -> None:
    """Setting a task's main preview (the entity's picture), as Zou 1.0.97 answers it
    (observed on the oracle): supervisors and up, every artist of the project's team,
    assigned to the task or not, a vendor on a task assigned to them; never a client.
    The callers have checked first that the task is in the caller's projects
    (:func:`check_task_seen`: 403 out of the team, and for a vendor not assigned)."""
    if principal.role in (*SUPERVISORS, "user"):
        return
    if principal.is_vendor and principal.id in (task.assignees or []):
        return
    raise Forbidden()


def check_supervisor(principal: Principal) -> None:
    if principal.role not in SUPERVISORS:
        raise Forbidden()


def check_manager(principal: Principal) -> None:
    if not principal.is_manager:
        raise Forbidden()


def check_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden()
