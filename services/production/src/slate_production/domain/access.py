"""Who may see and change what, following Zou's roles.

Projects and entities: admins everything; everyone else only the projects whose team
they are in (listings leave the others out; one of them named answers 403, as Zou,
and only what does not exist 404); managers change a
project's entities, tasks, team and settings; supervisors (and managers) assign and
edit tasks; vendors only see the tasks assigned to them.

Comments:
- everyone but admins must be in the task's project team (403 otherwise, as Zou answers);
- vendors only on the tasks they are assigned to;
- artists (``user``) only set statuses marked ``is_artist_allowed``, clients only
  ``is_client_allowed`` ones;
- clients read client comments (only their own where ``is_clients_isolated``), comments
  marked ``for_client``, and comments with a preview (without their text); artists and
  vendors do not read clients' comments.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, literal, or_, select, true
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from slate_common.errors import Forbidden, NotFound
from slate_common.security import Principal

from ..models import (
    Comment,
    Person,
    PreviewFileReplica,
    Project,
    Task,
    TaskStatus,
    project_person_link,
    task_person_link,
)

SUPERVISORS = ("admin", "manager", "supervisor")


def team_projects(principal: Principal) -> Select[Any]:
    return select(project_person_link.c.project_id).where(project_person_link.c.person_id == principal.id)


def project_visible(principal: Principal, *, project_col: Any) -> ColumnElement[bool]:
    """A condition on a ``project_id`` column: the rows the caller may see."""
    if principal.is_admin:
        return true()
    return project_col.in_(team_projects(principal))


def assigned_to(principal: Principal, *, task_id_col: Any) -> ColumnElement[bool]:
    return exists().where(task_person_link.c.task_id == task_id_col, task_person_link.c.person_id == principal.id)


async def principal_in_team(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID) -> bool:
    return bool(await session.scalar(select(exists().where(
        project_person_link.c.project_id == project_id, project_person_link.c.person_id == principal.id))))


async def readable_project(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID) -> Project:
    """The project if the caller may see it: 404 when there is none, 403 when they are
    not in its team (Zou's answers)."""
    project = await session.get(Project, project_id)
    if project is None:
        raise NotFound()
    if not (principal.is_admin or await principal_in_team(session, principal=principal, project_id=project_id)):
        raise Forbidden()
    return project


async def existing_project(session: AsyncSession, *, project_id: uuid.UUID) -> Project:
    """The project whoever asks, 404 when there is none: for views that show only the
    caller's own things in it (/data/user/projects/...)."""
    project = await session.get(Project, project_id)
    if project is None:
        raise NotFound()
    return project


async def check_read(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID) -> None:
    """In the project's team (or an admin): 403 otherwise, 404 when there is no such project."""
    if not principal.is_admin and not await principal_in_team(session, principal=principal, project_id=project_id):
        if await session.get(Project, project_id) is None:
            raise NotFound()
        raise Forbidden()


async def project_role(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID) -> str | None:
    """The caller's role on a project: "admin" for admins, the team member's project
    role when one is set (PUT /data/projects/<id>/team/<person>), else their studio
    role; None when they are not in the team."""
    if principal.is_admin:
        return "admin"
    row = (await session.execute(select(project_person_link.c.role).where(
        project_person_link.c.project_id == project_id, project_person_link.c.person_id == principal.id))).first()
    if row is None:
        return None
    return row[0] or principal.role


async def role_and_assignees(session: AsyncSession, *, principal: Principal, task: Task) -> tuple[str | None, list[str]]:
    """:func:`project_role` on the task's project and the task's assignees (person ids,
    in order), in one query: what reading one task checks and answers."""
    found, ids = (await session.execute(select(*role_and_assignees_columns(principal, project_id=task.project_id, task_id=task.id)))).one()
    return found, [str(i) for i in ids or ()]


def role_and_assignees_columns(principal: Principal, *, project_id: Any, task_id: Any) -> tuple[Any, Any]:
    """The caller's role in a project (:func:`project_role`) and a task's assignees (an
    array of person ids, in order), as two scalar subqueries: of given ids, or of the
    columns of a task row they are selected with."""
    role: Any = literal("admin") if principal.is_admin else (
        select(func.coalesce(project_person_link.c.role, principal.role))
        .where(project_person_link.c.project_id == project_id, project_person_link.c.person_id == principal.id)
        .scalar_subquery())
    assignees = (select(func.array_agg(aggregate_order_by(task_person_link.c.person_id, task_person_link.c.person_id)))
                 .where(task_person_link.c.task_id == task_id).scalar_subquery())
    return role, assignees


async def check_manager(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID) -> None:
    """Admins, or managers in the project's team (others in the team: 403)."""
    role = await project_role(session, principal=principal, project_id=project_id)
    if role is None and await session.get(Project, project_id) is None:
        raise NotFound()
    if role not in ("admin", "manager"):
        raise Forbidden()


async def check_supervisor(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID) -> None:
    """Admins, or managers and supervisors in the project's team."""
    role = await project_role(session, principal=principal, project_id=project_id)
    if role is None and await session.get(Project, project_id) is None:
        raise NotFound()
    if role not in SUPERVISORS:
        raise Forbidden()


def check_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden()


# --- comments ---------------------------------------------------------------------------


async def in_team(session: AsyncSession, *, project_id: uuid.UUID, person_id: uuid.UUID) -> bool:
    return bool(await session.scalar(select(exists().where(
        project_person_link.c.project_id == project_id, project_person_link.c.person_id == person_id))))


async def is_assigned(session: AsyncSession, *, task_id: uuid.UUID, person_id: uuid.UUID) -> bool:
    return bool(await session.scalar(select(exists().where(
        task_person_link.c.task_id == task_id, task_person_link.c.person_id == person_id))))


async def check_task_access(session: AsyncSession, *, principal: Principal, task: Task) -> None:
    """Read or comment a task at all."""
    if principal.is_admin:
        return
    if not await in_team(session, project_id=task.project_id, person_id=principal.id):
        raise Forbidden()
    if principal.is_vendor and not await is_assigned(session, task_id=task.id, person_id=principal.id):
        raise Forbidden()


async def task_role(session: AsyncSession, *, principal: Principal, task: Task) -> str:
    """:func:`check_task_access`, answering the caller's project role (one lookup for both)."""
    role = await project_role(session, principal=principal, project_id=task.project_id)
    if role is None:
        raise Forbidden()
    if principal.is_vendor and not await is_assigned(session, task_id=task.id, person_id=principal.id):
        raise Forbidden()
    return role


async def check_project_access(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID) -> None:
    if principal.is_admin:
        return
    if not await in_team(session, project_id=project_id, person_id=principal.id):
        raise Forbidden()


def check_status_allowed(role: str | None, *, status: TaskStatus) -> None:
    """``role``: the caller's role on the task's project (:func:`project_role`)."""
    if role == "user" and not status.is_artist_allowed:
        raise Forbidden()
    if role == "client" and not status.is_client_allowed:
        raise Forbidden()


async def is_project_manager(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID) -> bool:
    return await project_role(session, principal=principal, project_id=project_id) in ("admin", "manager")


async def check_author_or_manager(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID,
                                  author_id: uuid.UUID | str | None) -> None:
    """A person changes only their own comments and replies; the project's managers and
    admins any."""
    if author_id is not None and str(author_id) == str(principal.id):
        return
    if not await is_project_manager(session, principal=principal, project_id=project_id):
        raise Forbidden()


#: The comment's author is a client (its own alias of person: listings join the author
#: too). Built once: building an alias and its condition per request cost more than the
#: query it filters.
_AUTHOR = aliased(Person, name="comment_author")
_CLIENT_AUTHOR = exists().where(_AUTHOR.id == Comment.person_id, _AUTHOR.role == "client")
_NOT_CLIENT_AUTHOR = ~_CLIENT_AUTHOR


def _client_author() -> Any:
    return _CLIENT_AUTHOR


def _has_preview() -> Any:
    return exists().where(PreviewFileReplica.comment_id == Comment.id)


def comment_visibility(principal: Principal) -> Any:
    """Extra condition on the comments a caller may read (None: all of them).

    Clients read their fellow clients' comments (only their own when the production has
    ``is_clients_isolated``), comments marked ``for_client`` and
    comments carrying a preview (whose text they do not get, see :func:`client_blind`);
    artists and vendors do not read clients' comments. For every role but clients', the
    condition depends on the role alone (listings build their statement once per role)."""
    if principal.is_client:
        # on a production whose clients are isolated, only their own among clients' comments
        others_hidden = exists().where(Task.id == Comment.object_id, Project.id == Task.project_id,
                                       Project.is_clients_isolated.is_(True))
        clients = and_(_client_author(), or_(Comment.person_id == principal.id, ~others_hidden))
        return or_(Comment.for_client.is_(True), clients, _has_preview())
    if principal.role in ("user", "vendor"):
        return _NOT_CLIENT_AUTHOR
    return None


def client_blind(principal: Principal, *, comment: Comment, author_role: str | None) -> bool:
    """True when a client sees ``comment`` only for its preview: text, replies,
    checklist and mentions are withheld."""
    return principal.is_client and not comment.for_client and author_role != "client"

