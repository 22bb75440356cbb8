"""Reading one task without the ORM (issue 16): GET /data/tasks/<id>, the CRUD engine's
read-one, from one plain row.

The row carries the task's columns, the caller's role on its project and the task's
assignees (the same subqueries as :func:`access.role_and_assignees_columns`); the checks
are :class:`TaskHooks.check_read`'s and the answer is what ``Task.serialize`` and
:func:`tasks.serialize_task` write from the ORM object, key for key. Building the
object (identity map, instance state, attribute events) cost more than the query.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import bindparam, func, literal, select
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.db import BOOKKEEPING_FIELDS, CompiledRead
from slate_common.errors import Forbidden, NotFound
from slate_common.security import Principal
from slate_common.serialization import serialize_value

from ..models import Task, project_person_link, task_person_link
from .tasks import client_view, serialize_task

#: Values a row gives that the answer carries as they are (``ZouModel.serialize``'s).
_PLAIN = frozenset((str, int, float, bool, type(None), dict, list))


def serialized_columns(model: Any) -> list[Any]:
    """The table columns ``model.serialize()`` writes, in its order."""
    skip = model.hidden_fields | BOOKKEEPING_FIELDS
    return [col for col in model.__table__.columns if col.key not in skip]


def row_dict(keys: tuple[str, ...], *, values: Any, zou_type: str) -> dict[str, Any]:
    """``keys`` with the row's ``values`` as the model's ``serialize`` writes them, then ``type``."""
    out = {key: value if type(value) in _PLAIN else serialize_value(value) for key, value in zip(keys, values)}
    out["type"] = zou_type
    return out


_TASK_COLUMNS = serialized_columns(Task)
TASK_KEYS = tuple(col.key for col in _TASK_COLUMNS)
_N = len(TASK_KEYS)
_ASSIGNEES = (select(func.array_agg(aggregate_order_by(task_person_link.c.person_id, task_person_link.c.person_id)))
              .where(task_person_link.c.task_id == Task.id).scalar_subquery())
#: The statement per caller's role (admins: None), built once: the caller's id and the
#: task's are parameters.
_BY_ROLE: dict[str | None, Any] = {}


#: The same with the ORM's task object, for the writes (PUT, DELETE).
_LOAD_BY_ROLE: dict[str | None, Any] = {}


def _role_column(key: str | None) -> Any:
    """The caller's role on the task's project (:func:`access.role_and_assignees_columns`'s)."""
    return literal("admin") if key is None else (
        select(func.coalesce(project_person_link.c.role, literal(key)))
        .where(project_person_link.c.project_id == Task.project_id,
               project_person_link.c.person_id == bindparam("principal_id", type_=PG_UUID(as_uuid=True)))
        .scalar_subquery())


def _statement(principal: Principal, *, orm: bool = False) -> Any:
    key = None if principal.is_admin else principal.role
    cache = _LOAD_BY_ROLE if orm else _BY_ROLE
    stmt = cache.get(key)
    if stmt is None:
        columns = [Task] if orm else _TASK_COLUMNS
        stmt = cache[key] = (select(*columns, _role_column(key), _ASSIGNEES)
                             .where(Task.id == bindparam("task_id", type_=PG_UUID(as_uuid=True))))
    return stmt


#: :func:`_statement`'s reads, compiled once per role (``slate_common.db.CompiledRead``).
_READ_BY_ROLE: dict[str | None, CompiledRead] = {}


def _read_for(principal: Principal) -> CompiledRead:
    key = None if principal.is_admin else principal.role
    read = _READ_BY_ROLE.get(key)
    if read is None:
        read = _READ_BY_ROLE[key] = CompiledRead(_statement(principal))
    return read


def _params(principal: Principal, task_id: uuid.UUID) -> dict[str, Any]:
    params: dict[str, Any] = {"task_id": task_id}
    if not principal.is_admin:
        params["principal_id"] = principal.id
    return params


async def load_task(session: AsyncSession, *, principal: Principal,
                    task_id: uuid.UUID) -> tuple[Task, str | None, list[str]] | None:
    """The task (the ORM's object, to be changed), the caller's role on its project and
    its assignees (person ids), in one round trip; None when there is no such task."""
    row = (await session.execute(_statement(principal, orm=True), _params(principal, task_id))).first()
    if row is None:
        return None
    return row[0], row[1], [str(i) for i in row[2] or ()]


async def read_task(session: AsyncSession, *, principal: Principal, task_id: uuid.UUID,
                    relations: bool) -> dict[str, Any]:
    """The task as GET /data/tasks/<id> answers it (404 when none; 403 out of the
    caller's projects, and for a vendor not assigned to it); ``relations``: with its
    assignees before ``id`` (clients: none, and the client view of the values)."""
    row = await _read_for(principal).first(session, **_params(principal, task_id))
    if row is None:
        raise NotFound()
    role, assignees = row[_N], [str(i) for i in row[_N + 1] or ()]
    if not principal.is_admin:
        if role is None:
            raise Forbidden()
        if principal.is_vendor and str(principal.id) not in assignees:
            raise Forbidden()
    task = row_dict(TASK_KEYS, values=row[:_N], zou_type=Task.zou_type or "Task")
    if not relations:
        return client_view(task) if principal.is_client else task
    out: dict[str, Any] = {}
    listed = [] if principal.is_client else assignees
    for key, value in task.items():
        if key == "id":
            out["assignees"] = listed
        out[key] = value
    return client_view(out) if principal.is_client else out


#: A task's assignees (person ids, in order), by a bound task id, built once.
_ASSIGNEES_OF = (select(func.array_agg(aggregate_order_by(task_person_link.c.person_id, task_person_link.c.person_id)))
                 .where(task_person_link.c.task_id == bindparam("task_id", type_=PG_UUID(as_uuid=True))))


async def task_snapshot(session: AsyncSession, *, task: Task) -> dict[str, Any]:
    """:func:`tasks.task_snapshot` (the row and its assignees, read now) from a statement
    built once."""
    ids = await session.scalar(_ASSIGNEES_OF, {"task_id": task.id})
    return serialize_task(task, assignees=[str(i) for i in ids or ()])
