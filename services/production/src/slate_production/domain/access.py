"""Who may read and write a task's comments, following Zou's roles.

- admins: everything;
- everyone else must be in the task's project team (403 otherwise, as Zou answers);
- vendors only on the tasks they are assigned to;
- artists (``user``) only set statuses marked ``is_artist_allowed``, clients only
  ``is_client_allowed`` ones;
- clients read only client comments and comments marked ``for_client``.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.errors import Forbidden
from slate_common.security import Principal

from ..models import Comment, Person, Task, TaskStatus, project_person_link, task_person_link


async def in_team(session: AsyncSession, project_id: uuid.UUID, person_id: uuid.UUID) -> bool:
    return bool(await session.scalar(select(exists().where(
        project_person_link.c.project_id == project_id, project_person_link.c.person_id == person_id))))


async def is_assigned(session: AsyncSession, task_id: uuid.UUID, person_id: uuid.UUID) -> bool:
    return bool(await session.scalar(select(exists().where(
        task_person_link.c.task_id == task_id, task_person_link.c.person_id == person_id))))


async def check_task_access(session: AsyncSession, principal: Principal, task: Task) -> None:
    """Read or comment a task at all."""
    if principal.is_admin:
        return
    if not await in_team(session, task.project_id, principal.id):
        raise Forbidden()
    if principal.is_vendor and not await is_assigned(session, task.id, principal.id):
        raise Forbidden()


async def check_project_access(session: AsyncSession, principal: Principal, project_id: uuid.UUID) -> None:
    if principal.is_admin:
        return
    if not await in_team(session, project_id, principal.id):
        raise Forbidden()


def check_status_allowed(principal: Principal, status: TaskStatus) -> None:
    if principal.role == "user" and not status.is_artist_allowed:
        raise Forbidden()
    if principal.is_client and not status.is_client_allowed:
        raise Forbidden()


def check_author_or_manager(principal: Principal, author_id: uuid.UUID | str | None) -> None:
    """A person changes only their own comments and replies; managers and admins any."""
    if principal.is_manager:
        return
    if author_id is None or str(author_id) != str(principal.id):
        raise Forbidden()


def client_comment_filter(principal: Principal) -> Any:
    """Extra condition on comments a client may read (None for everyone else)."""
    if not principal.is_client:
        return None
    client_author = exists().where(Person.id == Comment.person_id, Person.role == "client")
    return or_(Comment.for_client.is_(True), client_author)
