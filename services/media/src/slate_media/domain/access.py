"""Who may see and change what, from the replicas of production's projects and tasks.

Reads are scoped in the base query (outside the caller's projects a preview does not
exist: 404); actions inside a visible project but beyond the caller's role are 403.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.errors import Forbidden, NotFound
from slate_common.security import Principal

from ..models import PreviewFile, ProjectReplica, TaskReplica
from ..consumers import PROJECTS, TASKS

SUPERVISORS = ("admin", "manager", "supervisor")


def scope_previews(stmt: Select[Any], principal: Principal) -> Select[Any]:
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


async def project_visible(session: AsyncSession, principal: Principal, project_id: uuid.UUID) -> ProjectReplica:
    project = await PROJECTS.get(session, project_id)
    if project is None:
        raise NotFound()
    if not principal.is_admin and principal.id not in (project.team or []):
        raise NotFound()
    return project


async def task_visible(session: AsyncSession, principal: Principal, task_id: uuid.UUID) -> TaskReplica:
    task = await TASKS.get(session, task_id)
    if task is None:
        raise NotFound()
    if principal.is_admin:
        return task  # type: ignore[no-any-return]
    project = await PROJECTS.get(session, task.project_id) if task.project_id else None
    if project is None or principal.id not in (project.team or []):
        raise NotFound()
    if principal.is_vendor and principal.id not in (task.assignees or []):
        raise NotFound()
    return task


def check_task_action(principal: Principal, task: TaskReplica) -> None:
    """Posting previews and setting main previews: supervisors and up on their
    projects; artists and vendors on tasks assigned to them; never clients."""
    if principal.role in SUPERVISORS:
        return
    if principal.role in ("user", "vendor") and principal.id in (task.assignees or []):
        return
    raise Forbidden()


def check_supervisor(principal: Principal) -> None:
    if principal.role not in SUPERVISORS:
        raise Forbidden()


def check_manager(principal: Principal) -> None:
    if not principal.is_manager:
        raise Forbidden()
