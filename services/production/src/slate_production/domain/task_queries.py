"""Task listings: plain rows, rows with names (per entity), and the rich rows of a
person's todo list; each one query, scope inside."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, Select, any_, bindparam, func, literal_column, select, true
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from slate_common.db import CompiledRead
from slate_common.errors import BadRequest
from slate_common.params import parse_id
from slate_common.security import Principal
from slate_common.serialization import loads

from ..models import (
    Entity,
    EntityType,
    Person,
    Project,
    ProjectStatus,
    Task,
    TaskStatus,
    TaskType,
    project_person_link,
    task_person_link,
)
from . import access
from .listing_cache import ListingCache
from .people import serialize_persons
from .subscriptions import is_subscribed_task
from .tasks import assignees_of, client_view, serialize_task
from .todo import (
    ROW_JSON,
    STAMP,
    assigned_to_person,  # noqa: F401  (re-exported: the routes' filter)
)
from .todo import _base as todo_base  # the to-check pages' row builder, same shape
from .todo import rows_json as todo_rows_json


def vendor_filter(principal: Principal) -> ColumnElement[bool]:
    if not principal.is_vendor:
        return true()
    return access.assigned_to(principal, task_id_col=Task.id)


def on_entities_of_person(person_id: uuid.UUID) -> ColumnElement[bool]:
    """Tasks on the entities where ``person_id`` has a task assigned."""
    return Task.entity_id.in_(select(Task.entity_id).where(assigned_to_person(person_id)))


def on_shots_of_sequence(sequence_id: uuid.UUID) -> ColumnElement[bool]:
    """Tasks of a sequence's shots."""
    return Task.entity_id.in_(select(Entity.id).where(Entity.parent_id == sequence_id))


def on_shots_of_episode(episode_id: uuid.UUID) -> ColumnElement[bool]:
    """Tasks of the shots of an episode's sequences."""
    seq = aliased(Entity)
    return Task.entity_id.in_(select(Entity.id).join(seq, seq.id == Entity.parent_id).where(seq.parent_id == episode_id))


def on_assets_of_episode(episode_id: uuid.UUID) -> ColumnElement[bool]:
    """Tasks of the assets made for an episode."""
    return Task.entity_id.in_(select(Entity.id).where(Entity.source_id == episode_id))


async def plain_tasks(session: AsyncSession, *, principal: Principal, conditions: Sequence[Any],
                      with_assignees: bool = True) -> list[dict[str, Any]]:
    """Task rows meeting ``conditions``; ``with_assignees``: with their ``assignees`` (ids),
    as most of Zou's task lists."""
    stmt = (
        select(Task).where(access.project_visible(principal, project_col=Task.project_id), vendor_filter(principal), *conditions)
        .order_by(Task.created_at, Task.id)
    )
    tasks = list((await session.scalars(stmt)).all())
    if not with_assignees:
        return [t.serialize() for t in tasks]
    assignees = await assignees_of(session, task_ids=[t.id for t in tasks])
    return [serialize_task(t, assignees=assignees[t.id]) for t in tasks]


async def named_tasks(session: AsyncSession, *, principal: Principal,
                      conditions: Sequence[Any]) -> list[dict[str, Any]]:
    """Task rows meeting ``conditions``, with project, type, status and entity names (Zou's
    entity task lists)."""
    stmt = (
        select(Task, Project.name, TaskType.name, TaskStatus.name, EntityType.name, Entity.name)
        .join(Project, Project.id == Task.project_id)
        .join(TaskType, TaskType.id == Task.task_type_id)
        .join(TaskStatus, TaskStatus.id == Task.task_status_id)
        .join(Entity, Entity.id == Task.entity_id)
        .join(EntityType, EntityType.id == Entity.entity_type_id)
        .where(access.project_visible(principal, project_col=Task.project_id), vendor_filter(principal), *conditions)
        .order_by(Entity.name, TaskType.priority, TaskType.name, Task.id)
    )
    rows = (await session.execute(stmt)).all()
    out = []
    for task, project_name, tt_name, ts_name, et_name, e_name in rows:
        row = task.serialize()
        row.update(project_name=project_name, task_type_name=tt_name, task_status_name=ts_name,
                   entity_type_name=et_name, entity_name=e_name)
        out.append(client_view(row) if principal.is_client else row)
    return out


async def entity_type_tasks(session: AsyncSession, *, principal: Principal, entity_id: uuid.UUID,
                            task_type_id: uuid.UUID) -> list[dict[str, Any]]:
    """An entity's tasks of one type, the rows alone (no assignees), as Zou lists them:
    to everyone who may see the entity, vendors included (their other views keep to
    their tasks); clients get :func:`client_view`."""
    rows = (await session.scalars(select(Task).where(Task.entity_id == entity_id, Task.task_type_id == task_type_id)
                                  .order_by(Task.created_at, Task.id))).all()
    return [client_view(t.serialize()) if principal.is_client else t.serialize() for t in rows]


async def todo_tasks_json(session: AsyncSession, *, principal: Principal, conditions: Sequence[Any],
                          cache: ListingCache | None = None, cache_key: Any = None) -> bytes:
    """Rich task rows of running projects (a person's todo list) as a JSON array: entity,
    parents, type and status details, last comment (the row builder of the to-check pages).
    With a ``cache``, rows are kept per caller and ``cache_key`` (which must name the
    ``conditions``) and only the tasks whose stamp changed are built again."""
    stmt = (
        todo_base()
        .where(access.project_visible(principal, project_col=Task.project_id), *conditions)
        .order_by(Project.name, Entity.name, TaskType.priority, Task.id)
    )
    if cache is None:
        return await todo_rows_json(session, stmt=stmt)
    stamped: Select[*tuple[Any, ...]] = stmt.with_only_columns(Task.id, literal_column(STAMP))
    stamps = [(r[0], r[1]) for r in await session.execute(stamped)]

    async def build(ids: list[uuid.UUID] | None) -> dict[uuid.UUID, str]:
        rows: Select[*tuple[Any, ...]] = stmt.with_only_columns(Task.id, literal_column(ROW_JSON))
        if ids is not None:
            rows = rows.where(Task.id.in_(ids))
        return {r[0]: r[1] for r in await session.execute(rows)}

    return await cache.rows(("todo", cache_key, principal.id, principal.role), "", stamps, build,
                            lambda rows: ("[" + ",".join(rows) + "]").encode(), keep_body=False)


_Rows = Select[*tuple[Any, ...]]


@functools.cache
def _user_tasks_statements(*, admin: bool) -> tuple[CompiledRead, CompiledRead, CompiledRead]:
    """/data/user/tasks's statements, built once per kind of caller (an admin sees every
    project, others their teams'): the stamps, every row, the rows of some ids. The
    person is a bound parameter (``person_id``; ``ids`` for the third). Building the
    to-do statement per request was a quarter of the call's CPU."""
    uuid_type = PG_UUID(as_uuid=True)
    person = bindparam("person_id", type_=uuid_type)
    mine = select(task_person_link.c.task_id).where(task_person_link.c.person_id == person)
    stmt = todo_base().where(Task.id == any_(func.array(mine.scalar_subquery())), TaskStatus.is_done.is_(False))
    if not admin:
        teams = select(project_person_link.c.project_id).where(project_person_link.c.person_id == person)
        stmt = stmt.where(Task.project_id.in_(teams))
    stmt = stmt.order_by(Project.name, Entity.name, TaskType.priority, Task.id)
    rows: _Rows = stmt.with_only_columns(Task.id, literal_column(ROW_JSON))
    some = rows.where(Task.id == any_(bindparam("ids", type_=ARRAY(uuid_type))))
    stamps: _Rows = stmt.with_only_columns(Task.id, literal_column(STAMP))
    return CompiledRead(stamps), CompiledRead(rows), CompiledRead(some)


async def user_tasks_json(session: AsyncSession, *, principal: Principal, cache: ListingCache | None) -> bytes:
    """The caller's to-do list (unfinished tasks assigned to them in running projects they
    may see) as :func:`todo_tasks_json` writes it, from statements built once; without a
    ``cache``, every row built."""
    stamps_read, rows_read, some_read = _user_tasks_statements(admin=principal.is_admin)
    if cache is None:
        return ("[" + ",".join(r[1] for r in await rows_read.all(session, person_id=principal.id)) + "]").encode()
    stamps = [(r[0], r[1]) for r in await stamps_read.all(session, person_id=principal.id)]

    async def build(ids: list[uuid.UUID] | None) -> dict[uuid.UUID, str]:
        rows = await (rows_read.all(session, person_id=principal.id) if ids is None
                      else some_read.all(session, person_id=principal.id, ids=ids))
        return {r[0]: r[1] for r in rows}

    return await cache.rows(("todo", "user-tasks", principal.id, principal.role), "", stamps, build,
                            lambda rows: ("[" + ",".join(rows) + "]").encode(), keep_body=False)


async def todo_tasks(session: AsyncSession, *, principal: Principal, conditions: Sequence[Any]) -> list[dict[str, Any]]:
    """:func:`todo_tasks_json` as dicts, for callers that reshape the rows."""
    return loads(await todo_tasks_json(session, principal=principal, conditions=conditions))  # type: ignore[no-any-return]


def open_project() -> ColumnElement[bool]:
    return ProjectStatus.name == "Open"


async def task_types_of(session: AsyncSession, *conditions: Any) -> list[dict[str, Any]]:
    """The task types of the tasks matching ``conditions``, ordered by name (as Zou)."""
    used = select(Task.task_type_id).where(*conditions)
    rows = await session.scalars(select(TaskType).where(TaskType.id.in_(used)).order_by(TaskType.name, TaskType.id))
    return [t.serialize() for t in rows]


async def project_tasks(session: AsyncSession, *, project_id: uuid.UUID, task_ids: list[uuid.UUID] | None = None,
                        task_type_id: uuid.UUID | None = None) -> Any:
    """A project's tasks: the given ones, or those of a task type."""
    stmt = select(Task).where(Task.project_id == project_id)
    if task_ids is not None:
        stmt = stmt.where(Task.id.in_(task_ids))
    if task_type_id is not None:
        stmt = stmt.where(Task.task_type_id == task_type_id)
    return list((await session.scalars(stmt)).all())


async def open_tasks(session: AsyncSession, *, principal: Principal, params: Any) -> Any:
    """Unfinished tasks of running projects, one page, with stats; filters: project_id,
    task_type_id, task_status_id, person_id, page, limit."""
    q = params
    conditions: list[Any] = [open_project(), TaskStatus.is_done.is_(False)]
    for key, column in (("project_id", Task.project_id), ("task_type_id", Task.task_type_id),
                        ("task_status_id", Task.task_status_id)):
        if q.get(key):
            conditions.append(column == parse_id(q[key], f"Invalid {key}"))
    if q.get("project_id"):  # a project one is not in: 403, as Zou (not an empty page)
        await access.check_project_access(session, principal=principal,
                                          project_id=parse_id(q["project_id"], "Invalid project_id"))
    if q.get("person_id"):
        conditions.append(assigned_to_person(parse_id(q["person_id"], "Invalid person_id")))
    if principal.is_vendor:
        conditions.append(assigned_to_person(principal.id))
    try:
        page = max(int(q.get("page", 1)), 1)
        limit = max(int(q.get("limit", 100)), 1)
    except ValueError as exc:
        raise BadRequest("page and limit must be integers") from exc
    rows = await todo_tasks(session, principal=principal, conditions=conditions)
    chunk = rows[(page - 1) * limit: page * limit]
    for row in chunk:
        for old, new in (("task_type_name", "type_name"), ("task_status_name", "status_name"),
                         ("task_type_color", "type_color"), ("task_status_color", "status_color"),
                         ("task_status_short_name", "status_short_name")):
            row[new] = row.pop(old)
        for key in ("task_estimation", "task_duration", "task_start_date", "task_due_date", "last_comment",
                    "episode_ids", "episode_names"):  # an asset's episodes: the to-do list's, not here (Zou)
            row.pop(key, None)
    amounts: dict[str, int] = {}
    for row in rows:
        amounts[row["task_status_id"]] = amounts.get(row["task_status_id"], 0) + 1
    stats = {
        # floats, as Zou's sums of float columns (0, an int, when there is no task)
        "total_duration": sum(r["duration"] or 0.0 for r in rows),
        "total_estimation": sum(r["estimation"] or 0.0 for r in rows),
        "total": len(rows),
        "status": [{"task_status_id": k, "amount": v} for k, v in sorted(amounts.items())],
    }
    return {"data": chunk, "stats": stats, "limit": limit, "is_more": page * limit < len(rows),
                          "page": page}


async def full_task(session: AsyncSession, *, principal: Principal, task: Task) -> Any:
    """A task with its entity, entity type, project, status, type, assignees and assigner."""
    # clients are not told who works on a task (no assignees, persons nor assigner)
    assignees = [] if principal.is_client else (await assignees_of(session, task_ids=[task.id]))[task.id]
    row = serialize_task(task, assignees=assignees)
    entity = await session.get(Entity, task.entity_id)
    assert entity is not None
    entity_type = await session.get(EntityType, entity.entity_type_id)
    project = await session.get(Project, task.project_id)
    found = list(await session.scalars(
        select(Person).where(Person.id.in_([uuid.UUID(a) for a in assignees] + [task.assigner_id or uuid.uuid4()]))))
    persons = {uuid.UUID(row["id"]): row for row in await serialize_persons(session, persons=found)}
    assigner = persons.get(task.assigner_id) if task.assigner_id else None
    row.update(
        entity=entity.serialize(), entity_type=entity_type.serialize() if entity_type else None,
        is_subscribed=await is_subscribed_task(session, principal=principal, task_id=task.id),
        # Zou lists the assignees without their departments, the assigner with them
        persons=[{k: v for k, v in persons[uuid.UUID(a)].items() if k != "departments"}
                 for a in assignees if uuid.UUID(a) in persons],
        project=project.serialize() if project else None,
        task_status=(await session.get(TaskStatus, task.task_status_id)).serialize(),  # type: ignore[union-attr]
        task_type=(await session.get(TaskType, task.task_type_id)).serialize(),  # type: ignore[union-attr]
        assigner=assigner,
    )
    if principal.is_client or assigner is None:  # no assigner, no key (as Zou)
        del row["assigner"]
    if principal.is_client:
        row = client_view(row)
    if entity_type is not None and entity_type.name in ("Shot", "Scene") and entity.parent_id:
        sequence = await session.get(Entity, entity.parent_id)
        row["sequence"] = sequence.serialize(type_name="Sequence") if sequence else None
        episode = await session.get(Entity, sequence.parent_id) if sequence and sequence.parent_id else None
        if episode is not None:
            row["episode"] = episode.serialize(type_name="Episode")
    return row


async def task_dates(session: AsyncSession, *, principal: Principal) -> Any:
    """For each person with tasks in running projects: the first start and last due date."""
    stmt = (
        select(task_person_link.c.person_id, func.min(Task.start_date), func.max(Task.due_date))
        .join(Task, Task.id == task_person_link.c.task_id)
        .join(Project, Project.id == Task.project_id)
        .join(ProjectStatus, ProjectStatus.id == Project.project_status_id)
        .join(TaskStatus, TaskStatus.id == Task.task_status_id)
        .where(ProjectStatus.name == "Open", TaskStatus.is_done.is_(False),
               access.project_visible(principal, project_col=Task.project_id))
        .group_by(task_person_link.c.person_id)
        .order_by(task_person_link.c.person_id)
    )
    rows = (await session.execute(stmt)).all()
    return [
        {"person_id": str(pid), "min_date": lo, "max_date": hi, "busy_periods": []} for pid, lo, hi in rows
    ]


async def open_tasks_stats(session: AsyncSession, *, principal: Principal) -> Any:
    """Per running project: task count, done count, durations and estimations, by type and status."""
    stmt = (
        select(Task.project_id, Task.task_type_id, Task.task_status_id, func.count(Task.id),
               func.count(Task.id).filter(TaskStatus.is_done.is_(True)),
               func.coalesce(func.sum(Task.duration), 0.0), func.coalesce(func.sum(Task.estimation), 0.0))
        .join(Project, Project.id == Task.project_id)
        .join(ProjectStatus, ProjectStatus.id == Project.project_status_id)
        .join(TaskStatus, TaskStatus.id == Task.task_status_id)
        .where(ProjectStatus.name == "Open", access.project_visible(principal, project_col=Task.project_id))
        .group_by(Task.project_id, Task.task_type_id, Task.task_status_id)
        .order_by(Task.project_id, Task.task_type_id, Task.task_status_id)
    )
    out: dict[str, Any] = {}
    for project_id, tt, ts, amount, done, duration, estimation in await session.execute(stmt):
        project = out.setdefault(str(project_id), {"amount": 0, "amount_done": 0, "total_duration": 0.0,
                                                   "total_estimation": 0.0, "task_types": []})
        project["amount"] += amount
        project["amount_done"] += done
        project["total_duration"] += float(duration)
        project["total_estimation"] += float(estimation)
        project["task_types"].append({
            "task_status_id": str(ts), "task_type_id": str(tt), "project_id": str(project_id), "amount": amount,
            "amount_done": done, "total_duration": float(duration), "total_estimation": float(estimation)})
    return out
