"""Task rows as Kitsu's to-do pages read them (``/data/user/tasks``, ``tasks-to-check``,
``done-tasks``, a person's tasks): the task with its project, entity, type and status
names and its last comment. One set-based query; PostgreSQL writes each row's JSON in
Zou's key order (as the with-tasks listings do), so Python only joins the rows."""

from __future__ import annotations

import uuid
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, any_, exists, func, literal_column, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from slate_common.security import Principal
from slate_common.serialization import loads

from ..models import (
    TEMPORAL_TYPES,
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
from .sql_json import column_json, json_object

PARENT = aliased(Entity, name="parent")
GRANDPARENT = aliased(Entity, name="grandparent")
#: The task table (a Table, whose columns are Columns, for column_json).
_TASK = cast(Table, Task.__table__)
IS_SHOT = "entity_type.name IN ('Shot', 'Scene')"
#: A shot's episode is its sequence's parent; a sequence's, its parent.
EPISODE = (f"CASE WHEN {IS_SHOT} THEN grandparent.{{0}} "
           "WHEN entity_type.name = 'Sequence' THEN parent.{0} END")

#: After the task's own columns (``type`` included), in Zou's order.
EXTRA_FIELDS: tuple[tuple[str, str], ...] = (
    ("project_name", "project.name"),
    ("project_has_avatar", "project.has_avatar"),
    ("entity_name", "entity.name"),
    ("entity_description", "entity.description"),
    ("entity_data", "COALESCE(entity.data, '{}'::jsonb)"),
    ("entity_preview_file_id", "COALESCE(entity.preview_file_id::text, '')"),
    ("entity_source_id", "COALESCE(entity.source_id::text, '')"),
    ("entity_type_name", "entity_type.name"),
    ("entity_canceled", "entity.canceled"),
    ("sequence_name", f"CASE WHEN {IS_SHOT} THEN parent.name END"),
    ("episode_id", f"COALESCE(({EPISODE.format('id')})::text, '')"),
    ("episode_name", EPISODE.format("name")),
    ("task_type_for_entity", "task_type.for_entity"),
    ("task_estimation", column_json(_TASK.c.estimation)),
    ("task_duration", column_json(_TASK.c.duration)),
    ("task_start_date", column_json(_TASK.c.start_date)),
    ("task_due_date", column_json(_TASK.c.due_date)),
    ("task_type_name", "task_type.name"),
    ("task_status_name", "task_status.name"),
    ("task_type_color", "task_type.color"),
    ("task_status_color", "task_status.color"),
    ("task_status_short_name", "task_status.short_name"),
    ("assignees", ("COALESCE((SELECT json_agg(l.person_id ORDER BY l.person_id) FROM task_person_link l "
                   "WHERE l.task_id = task.id), '[]'::json)")),
    ("last_comment", ("CASE WHEN last_comment.created_at IS NULL THEN '{}'::json ELSE json_build_object("
                      "'text', last_comment.text, 'date', "
                      "to_char(last_comment.created_at, 'YYYY-MM-DD\"T\"HH24:MI:SS'), "
                      "'person_id', last_comment.person_id) END")),
)


IS_ASSET = "entity_type.name NOT IN ({})".format(", ".join(f"'{t}'" for t in TEMPORAL_TYPES))
#: The episodes an asset is cast in (through its shots' sequences), by name.
_CAST_EPISODES = ("(SELECT DISTINCT episode.id, episode.name FROM entity_link cast_link "
                  "JOIN entity cast_shot ON cast_shot.id = cast_link.entity_in_id "
                  "JOIN entity cast_sequence ON cast_sequence.id = cast_shot.parent_id "
                  "JOIN entity episode ON episode.id = cast_sequence.parent_id "
                  "WHERE cast_link.entity_out_id = entity.id)")
#: Asset rows only, between ``task_status_short_name`` and ``assignees`` (Zou's order).
ASSET_FIELDS: tuple[tuple[str, str], ...] = (
    ("episode_ids", f"(SELECT COALESCE(json_agg(e.id ORDER BY e.name, e.id), '[]'::json) FROM {_CAST_EPISODES} e)"),
    ("episode_names", f"(SELECT COALESCE(json_agg(e.name ORDER BY e.name, e.id), '[]'::json) FROM {_CAST_EPISODES} e)"),
)


def _row_json() -> str:
    own = [(c.key, column_json(c)) for c in _TASK.columns if c.key not in Task.hidden_fields]
    head = json_object([*own, ("type", "'Task'"), *EXTRA_FIELDS[:-2]])
    tail = json_object(EXTRA_FIELDS[-2:])
    asset = json_object(ASSET_FIELDS)
    return (f"(left({head}, -1) || CASE WHEN {IS_ASSET} THEN ', ' || left(substr({asset}, 2), -1) ELSE '' END "
            f"|| ', ' || substr({tail}, 2))")


ROW_JSON = _row_json()

#: What a row is built from, as one text per task (for the row cache): the ``updated_at``
#: of the task (assigning and commenting bump it), its entity and parents, project, type,
#: status and last comment; for an asset, its casting's.
STAMP = "concat_ws(':', {}, {})".format(", ".join(
    f"date_part('epoch', {source}.updated_at)" for source in (
        "task", "entity", "parent", "grandparent", "project", "entity_type", "task_type", "task_status",
        "last_comment")),
    # an asset's episodes: how many casting links, and the newest change on their way
    # (link, shot, sequence, episode)
    f"CASE WHEN {IS_ASSET} THEN (SELECT count(*) || '/' || COALESCE(max(date_part('epoch', "
    "GREATEST(l.updated_at, s.updated_at, q.updated_at, e.updated_at))), 0) FROM entity_link l "
    "LEFT JOIN entity s ON s.id = l.entity_in_id LEFT JOIN entity q ON q.id = s.parent_id "
    "LEFT JOIN entity e ON e.id = q.parent_id WHERE l.entity_out_id = entity.id) END")


def assigned_to_person(person_id: uuid.UUID) -> ColumnElement[bool]:
    """Tasks assigned to the person, as ``task.id = ANY(ARRAY(<their task ids>))``: the
    planner then starts from the person's few assignments (an index scan) instead of
    joining every task of the studio and testing each one (an EXISTS it ranks last)."""
    mine = select(task_person_link.c.task_id).where(task_person_link.c.person_id == person_id)
    return Task.id == any_(func.array(mine.scalar_subquery()))


def _base() -> Select[Any]:
    last = (
        select(Comment.text, Comment.created_at, Comment.person_id, Comment.updated_at)
        .where(Comment.object_id == Task.id).order_by(Comment.created_at.desc()).limit(1)
        .correlate(Task).lateral("last_comment")
    )
    return (
        select(literal_column(ROW_JSON))
        .select_from(Task)
        .join(Project, Project.id == Task.project_id)
        .join(ProjectStatus, ProjectStatus.id == Project.project_status_id)
        .join(Entity, Entity.id == Task.entity_id)
        .join(EntityType, EntityType.id == Entity.entity_type_id)
        .outerjoin(PARENT, PARENT.id == Entity.parent_id)
        .outerjoin(GRANDPARENT, GRANDPARENT.id == PARENT.parent_id)
        .join(TaskType, TaskType.id == Task.task_type_id)
        .join(TaskStatus, TaskStatus.id == Task.task_status_id)
        .outerjoin(last, true())
        .where(ProjectStatus.name == OPEN)
    )


async def rows_json(session: AsyncSession, *, stmt: Select[Any]) -> bytes:
    """The rows of a :func:`_base` statement as one JSON array (bytes)."""
    rows = (await session.execute(stmt)).scalars().all()
    return ("[" + ",".join(rows) + "]").encode()


async def _rows(session: AsyncSession, stmt: Select[Any]) -> list[dict[str, Any]]:
    return loads(await rows_json(session, stmt=stmt))  # type: ignore[no-any-return]


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


async def tasks_to_check(session: AsyncSession, *, principal: Principal) -> list[dict[str, Any]]:
    """Tasks waiting for feedback in the caller's open projects (:func:`_to_check_stmt`;
    artists, clients and vendors: none)."""
    return await _rows(session, _to_check_stmt(principal))


async def tasks_to_check_filter_values(session: AsyncSession, *, principal: Principal) -> dict[str, list[str]]:
    rows = await tasks_to_check(session, principal=principal)

    def distinct(key: str) -> list[str]:
        return list(dict.fromkeys(r[key] for r in rows if r.get(key)))

    persons = list(dict.fromkeys(p for r in rows for p in r["assignees"]))
    return {"project_ids": distinct("project_id"), "task_type_ids": distinct("task_type_id"),
            "task_status_ids": distinct("task_status_id"), "episode_ids": distinct("episode_id"),
            "person_ids": persons}


async def done_tasks(session: AsyncSession, *, person_id: uuid.UUID,
                     viewer: Principal | None = None) -> list[dict[str, Any]]:
    """Tasks assigned to ``person_id`` whose status is a done one, in open projects
    (and, for a viewer other than an admin, only in projects the viewer is in)."""
    stmt = (
        _base().where(TaskStatus.is_done.is_(True))
        .where(assigned_to_person(person_id))
        .order_by(Task.end_date.desc().nulls_last(), Task.done_date.desc().nulls_last(), Task.id)
    )
    if viewer is not None and not viewer.is_admin and viewer.id != person_id:
        stmt = stmt.where(exists().where(project_person_link.c.project_id == Task.project_id,
                                         project_person_link.c.person_id == viewer.id))
    return await _rows(session, stmt)
