"""Comments on tasks: the status-change comment (Kitsu's main action), replies,
acknowledgements, mentions, edits and deletions, and the listings Kitsu reads.

Posting a comment, in one transaction: the comment and its mentions are stored, the
task moves to the comment's status through :func:`tasks.change_status` (dates, retake
count, ``task:status-changed``), the task's ``last_comment_date`` is set and
``task:update`` emitted, a news entry is written, notifications go to the assignees,
subscribers and mentioned persons (not to the author), and ``comment:new`` is emitted.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import ARRAY, JSON, delete, func, literal, literal_column, select
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.errors import BadRequest, Forbidden, NotFound
from slate_common.events import emit
from slate_common.security import Principal
from slate_common.serialization import now, serialize_value

from ..models import (
    AttachmentFileReplica,
    Comment,
    Department,
    News,
    Notification,
    Person,
    PreviewFileReplica,
    Task,
    TaskStatus,
    comment_acknowledgement_link,
    comment_department_mention_link,
    comment_mention_link,
    project_person_link,
)
from . import access, notifications
from .sql_json import column_json, json_object
from . import tasks as task_rules

PERSON_BRIEF = ("first_name", "last_name", "full_name", "has_avatar", "role", "id")
STATUS_BRIEF = ("name", "short_name", "color", "id")
PREVIEW_FIELDS = ("id", "task_id", "revision", "extension", "width", "height", "duration", "status",
                  "validation_status", "original_name", "position", "annotations")


# --- loading ---------------------------------------------------------------------------


async def get_task(session: AsyncSession, task_id: uuid.UUID) -> Task:
    task = await session.get(Task, task_id)
    if task is None:
        raise NotFound()
    return task


async def get_comment(session: AsyncSession, comment_id: uuid.UUID, *, task_id: uuid.UUID | None = None) -> Comment:
    comment = await session.get(Comment, comment_id)
    if comment is None or (task_id is not None and comment.object_id != task_id):
        raise NotFound()
    return comment


async def get_status(session: AsyncSession, task_status_id: uuid.UUID) -> TaskStatus:
    status = await session.get(TaskStatus, task_status_id)
    if status is None:
        raise NotFound()
    return status


# --- mentions --------------------------------------------------------------------------


async def find_mentions(session: AsyncSession, project_id: uuid.UUID, text: str | None) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """Persons of the project team mentioned as ``@Full Name`` and departments as
    ``@Department Name`` in ``text``."""
    if not text or "@" not in text:
        return [], []
    team = await session.execute(
        select(Person.id, Person.first_name, Person.last_name)
        .join(project_person_link, project_person_link.c.person_id == Person.id)
        .where(project_person_link.c.project_id == project_id)
    )
    persons = [pid for pid, first, last in team if f"@{f'{first} {last}'.strip()}" in text]
    departments = [did for did, name in await session.execute(select(Department.id, Department.name))
                   if name and f"@{name}" in text]
    return persons, departments


async def department_members(session: AsyncSession, department_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    from ..models import department_person_link

    if not department_ids:
        return []
    rows = await session.scalars(
        select(department_person_link.c.person_id).where(department_person_link.c.department_id.in_(department_ids))
    )
    return list(dict.fromkeys(rows))


async def _set_links(session: AsyncSession, table: Any, column: str, comment_id: uuid.UUID, ids: list[uuid.UUID],
                     *, new: bool = False) -> None:
    """Make ``ids`` the comment's links in ``table`` (``new``: the comment has none yet)."""
    if not new:
        await session.execute(delete(table).where(table.c.comment_id == comment_id))
    if ids:
        await session.execute(insert(table), [{"comment_id": comment_id, column: i} for i in dict.fromkeys(ids)])


async def _links(session: AsyncSession, table: Any, column: str, comment_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    out: dict[uuid.UUID, list[str]] = defaultdict(list)
    if comment_ids:
        for cid, other in await session.execute(
            select(table.c.comment_id, table.c[column]).where(table.c.comment_id.in_(comment_ids))
        ):
            out[cid].append(str(other))
    return out


# --- serialization ---------------------------------------------------------------------


async def _persons(session: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, Person]:
    if not ids:
        return {}
    return {p.id: p for p in await session.scalars(select(Person).where(Person.id.in_(ids)))}


def person_brief(person: Person | None, person_id: Any) -> dict[str, Any]:
    if person is None:
        return {"first_name": "", "last_name": "", "full_name": "", "has_avatar": False, "role": None,
                "id": str(person_id)}
    return {"first_name": person.first_name, "last_name": person.last_name, "full_name": person.full_name,
            "has_avatar": person.has_avatar, "role": person.role, "id": str(person.id)}


async def _previews(session: AsyncSession, comment_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[dict[str, Any]]]:
    out: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    if comment_ids:
        rows = await session.scalars(
            select(PreviewFileReplica).where(PreviewFileReplica.comment_id.in_(comment_ids))
            .order_by(PreviewFileReplica.revision, PreviewFileReplica.position, PreviewFileReplica.created_at)
        )
        for p in rows:
            assert p.comment_id is not None
            out[p.comment_id].append({k: serialize_value(getattr(p, k)) for k in PREVIEW_FIELDS})
    return out


async def _attachments(session: AsyncSession, comment_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[AttachmentFileReplica]]:
    out: dict[uuid.UUID, list[AttachmentFileReplica]] = defaultdict(list)
    if comment_ids:
        rows = await session.scalars(select(AttachmentFileReplica).where(AttachmentFileReplica.comment_id.in_(comment_ids))
                                     .order_by(AttachmentFileReplica.created_at, AttachmentFileReplica.id))
        for a in rows:
            assert a.comment_id is not None
            out[a.comment_id].append(a)
    return out


def attachment_brief(a: AttachmentFileReplica, *, reply: bool = False) -> dict[str, Any]:
    out = {"id": str(a.id), "name": a.name, "extension": a.extension}
    if reply:
        out["reply_id"] = serialize_value(a.reply_id)
    out["size"] = a.size
    return out


async def comment_relations(session: AsyncSession, comments: list[Comment]) -> dict[str, Any]:
    ids = [c.id for c in comments]
    return {
        "attachments": await _attachments(session, ids),
        "mentions": await _links(session, comment_mention_link, "person_id", ids),
        "department_mentions": await _links(session, comment_department_mention_link, "department_id", ids),
        "acknowledgements": await _links(session, comment_acknowledgement_link, "person_id", ids),
        "previews": await _previews(session, ids),
    }


async def serialize_with_links(session: AsyncSession, comment: Comment, *, preview_ids: bool = True) -> dict[str, Any]:
    """The comment with its mentions, acknowledgements, previews (ids) and attachments,
    as the ack, edit and single-comment routes answer."""
    if comment.fresh_links is not None:  # created in this request: only its mentions exist
        mentions, department_mentions = comment.fresh_links
        rel: dict[str, Any] = {
            "attachments": {}, "acknowledgements": {}, "previews": {},
            "mentions": {comment.id: [str(m) for m in dict.fromkeys(mentions)]},
            "department_mentions": {comment.id: [str(d) for d in dict.fromkeys(department_mentions)]},
        }
    else:
        rel = await comment_relations(session, [comment])
    out = comment.serialize()
    previews = rel["previews"].get(comment.id, [])
    out.update(
        previews=[p["id"] for p in previews] if preview_ids else previews,
        mentions=rel["mentions"].get(comment.id, []),
        department_mentions=rel["department_mentions"].get(comment.id, []),
        acknowledgements=rel["acknowledgements"].get(comment.id, []),
        attachment_files=[attachment_brief(a) for a in rel["attachments"].get(comment.id, [])],
    )
    return out


async def serialize_created(session: AsyncSession, comment: Comment) -> dict[str, Any]:
    """POST answer: the comment, its links, the full task status and the full author."""
    out = await serialize_with_links(session, comment)
    status = await session.get(TaskStatus, comment.task_status_id) if comment.task_status_id else None
    author = await session.get(Person, comment.person_id)
    out["task_status"] = status.serialize() if status else None
    out["person"] = author.serialize(exclude=frozenset({"departments"})) if author else person_brief(None, comment.person_id)
    return out


async def serialize_one(session: AsyncSession, comment: Comment) -> dict[str, Any]:
    """GET /data/comments/<id>: links, author in brief, replies with their authors."""
    out = await serialize_with_links(session, comment)
    ids = {uuid.UUID(str(r.get("person_id"))) for r in comment.replies or [] if r.get("person_id")}
    persons = await _persons(session, ids | {comment.person_id})
    out["replies"] = _replies_with_persons(comment, persons)
    out["person"] = person_brief(persons.get(comment.person_id), comment.person_id)
    return out


def _replies_with_persons(comment: Comment, persons: dict[uuid.UUID, Person]) -> list[dict[str, Any]]:
    return [
        {**r, "person": person_brief(persons.get(uuid.UUID(str(r["person_id"]))), r["person_id"])}
        if r.get("person_id") else r
        for r in comment.replies or []
    ]


def _json_rows(model: Any, fields: tuple[str, ...], order: str) -> Any:
    """A comment row's ``model`` rows (previews, attachments) as a JSON array of objects
    with ``fields``, in ``order``: a correlated subquery of the comments listing, where
    two more queries were needed."""
    table = model.__table__
    pairs = [(f, column_json(table.c[f])) for f in fields]
    return literal_column(
        f"(SELECT COALESCE(json_agg(({json_object(pairs)})::json ORDER BY {order}), '[]'::json) "
        f"FROM {table.name} WHERE {table.name}.comment_id = comment.id)", type_=JSON)


#: What the task comments listing says of a preview and of an attachment (Zou's keys).
LISTED_PREVIEWS = _json_rows(PreviewFileReplica, PREVIEW_FIELDS, "preview_file_replica.revision, "
                             "preview_file_replica.position, preview_file_replica.created_at")
LISTED_ATTACHMENTS = _json_rows(AttachmentFileReplica, ("id", "name", "extension", "reply_id", "size"),
                                "attachment_file_replica.created_at, attachment_file_replica.id")


def _linked_ids(table: Any, column: str) -> Any:
    """The ids linked to each comment row, as an array (empty when none)."""
    return func.coalesce(
        select(func.array_agg(table.c[column])).where(table.c.comment_id == Comment.id)
        .correlate(Comment).scalar_subquery(),
        literal([], ARRAY(PG_UUID(as_uuid=True))),
    )


async def task_comments(session: AsyncSession, principal: Principal, task: Task) -> list[dict[str, Any]]:
    """A task's comments, newest first, with author, status, previews and links: the
    listing Kitsu's task panel reads. One query for the comments with their author,
    status and link arrays, one each for previews and attachments."""
    await access.check_task_access(session, principal, task)
    stmt = (
        select(Comment, Person.first_name, Person.last_name, Person.has_avatar, Person.role,
               TaskStatus.name, TaskStatus.short_name, TaskStatus.color,
               _linked_ids(comment_mention_link, "person_id"),
               _linked_ids(comment_department_mention_link, "department_id"),
               _linked_ids(comment_acknowledgement_link, "person_id"), LISTED_PREVIEWS, LISTED_ATTACHMENTS)
        .outerjoin(Person, Person.id == Comment.person_id)
        .outerjoin(TaskStatus, TaskStatus.id == Comment.task_status_id)
        .where(Comment.object_id == task.id).order_by(Comment.created_at.desc(), Comment.id)
    )
    visible = access.comment_visibility(principal)
    if visible is not None:
        stmt = stmt.where(visible)
    rows = (await session.execute(stmt)).all()
    if not rows:
        return []
    reply_authors = {uuid.UUID(str(r["person_id"])) for row in rows for r in row[0].replies or [] if r.get("person_id")}
    persons = await _persons(session, reply_authors)
    out = []
    for c, first, last, avatar, role, s_name, s_short, s_color, mentions, departments, acks, previews, files in rows:
        row = c.serialize()
        row["replies"] = _replies_with_persons(c, persons)
        blind = access.client_blind(principal, c, role)
        if blind:
            row.update(text="", replies=[], checklist=[])
        row.update(
            person={"first_name": first or "", "last_name": last or "",
                    "full_name": f"{first or ''} {last or ''}".strip(), "has_avatar": bool(avatar), "role": role,
                    "id": str(c.person_id)},
            task_status=({"name": s_name, "short_name": s_short, "color": s_color, "id": str(c.task_status_id)}
                         if s_name is not None else None),
            acknowledgements=[str(a) for a in acks],
            previews=previews,
            mentions=[] if blind else [str(m) for m in mentions],
            department_mentions=[] if blind else [str(d) for d in departments],
            attachment_files=[] if blind else files,
        )
        out.append(row)
    return out


async def project_comments(session: AsyncSession, principal: Principal, project_id: uuid.UUID,
                           *, limit: int | None = None, page: int = 1) -> list[dict[str, Any]]:
    """Every comment of a project's tasks, newest first, with links and preview ids. Its
    team reads them, but not its clients and vendors (Zou: 403)."""
    await access.check_project_access(session, principal, project_id)
    if await access.project_role(session, principal, project_id) in ("client", "vendor"):
        raise Forbidden()
    stmt = (select(Comment).join(Task, Task.id == Comment.object_id)
            .where(Task.project_id == project_id).order_by(Comment.created_at.desc(), Comment.id))
    client_only = access.comment_visibility(principal)
    if client_only is not None:
        stmt = stmt.where(client_only)
    if principal.is_vendor:
        from ..models import task_person_link
        stmt = stmt.join(task_person_link, task_person_link.c.task_id == Task.id).where(
            task_person_link.c.person_id == principal.id)
    if limit:
        stmt = stmt.limit(limit).offset((max(page, 1) - 1) * limit)
    comments = list((await session.scalars(stmt)).all())
    rel = await comment_relations(session, comments)
    roles = ({p.id: p.role for p in (await _persons(session, {c.person_id for c in comments})).values()}
             if principal.is_client else {})
    out = []
    for c in comments:
        row = c.serialize()
        blind = access.client_blind(principal, c, roles.get(c.person_id))
        if blind:
            row.update(text="", replies=[], checklist=[])
        row.update(
            mentions=[] if blind else rel["mentions"].get(c.id, []),
            department_mentions=[] if blind else rel["department_mentions"].get(c.id, []),
            acknowledgements=rel["acknowledgements"].get(c.id, []),
            previews=[p["id"] for p in rel["previews"].get(c.id, [])],
            attachment_files=[] if blind else [str(a.id) for a in rel["attachments"].get(c.id, [])],
        )
        out.append(row)
    return out


def snapshot(comment: Comment) -> dict[str, Any]:
    return comment.serialize()


def emit_comment(session: AsyncSession, name: str, comment: Comment, task: Task, *,
                 actor_id: uuid.UUID | None, **extra: Any) -> None:
    emit(session, name, {"comment_id": str(comment.id), "task_id": str(task.id), **extra,
                         "snapshot": snapshot(comment)},
         project_id=task.project_id, actor_id=actor_id)


# --- posting ---------------------------------------------------------------------------


def _parse_created_at(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadRequest("Invalid created_at date") from exc
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return parsed


def _checklist(value: Any) -> list[Any]:
    if value in (None, ""):
        return []
    if isinstance(value, dict):  # {"item1": "text"} as the API reference shows it
        return [{"text": str(v), "checked": False} for v in value.values()]
    if not isinstance(value, list):
        raise BadRequest("checklist must be a list")
    return value


async def create_comment(
    session: AsyncSession,
    *,
    principal: Principal,
    task: Task,
    task_status_id: uuid.UUID,
    text: str | None = "",
    person_id: uuid.UUID | None = None,
    checklist: Any = None,
    links: list[str] | None = None,
    created_at: Any = None,
    for_client: bool = False,
) -> Comment:
    """Comment on ``task`` and move it to ``task_status_id`` (module docstring)."""
    role = await access.task_role(session, principal, task)
    status = await get_status(session, task_status_id)
    access.check_status_allowed(role, status)
    author_id = person_id if (person_id and role in ("admin", "manager")) else principal.id
    stamp = _parse_created_at(created_at) or now()
    if links is not None and not (isinstance(links, list) and all(isinstance(x, str) for x in links)):
        raise BadRequest("links must be a list of strings")
    comment = Comment(
        id=uuid.uuid4(), object_id=task.id, object_type="Task", text=text or "", replies=[],
        checklist=_checklist(checklist), for_client=bool(for_client), links=links or [],
        task_status_id=status.id, person_id=author_id, created_at=stamp, updated_at=stamp,
    )
    session.add(comment)
    mentions, department_mentions = await find_mentions(session, task.project_id, comment.text)
    if mentions or department_mentions:
        await session.flush()  # the links name the comment
        await _set_links(session, comment_mention_link, "person_id", comment.id, mentions, new=True)
        await _set_links(session, comment_department_mention_link, "department_id", comment.id,
                         department_mentions, new=True)
    comment.fresh_links = (mentions, department_mentions)

    # read once for the two snapshots and the notifications (a comment does not assign)
    assignees = (await task_rules.assignees_of(session, [task.id]))[task.id]
    task.last_comment_date = stamp  # set first: both task snapshots below carry it
    change = await task_rules.change_status(session, task=task, task_status_id=status.id, actor_id=author_id,
                                            when=stamp, assignees=assignees)
    await session.flush()
    await task_rules.emit_task_event(session, "task:update", task, actor_id=author_id, assignees=assignees)
    session.add(News(id=uuid.uuid4(), change=change.changed, author_id=author_id, comment_id=comment.id,
                     task_id=task.id, created_at=stamp, updated_at=stamp))
    emit_comment(session, "comment:new", comment, task, actor_id=author_id,
                 task_status_id=str(status.id), person_id=str(author_id))
    await notifications.notify_comment(
        session, comment=comment, task=task, change=change.changed, mentions=mentions,
        department_mentions=department_mentions, assignees=[uuid.UUID(a) for a in assignees],
    )
    return comment


async def create_raw_comment(session: AsyncSession, *, principal: Principal, data: dict[str, Any]) -> Comment:
    """A comment row as given (the generic /data/comments create): the task is left as
    it is and nobody is notified."""
    if data.get("object_id") in (None, ""):
        raise BadRequest("A required field is missing.")
    task = await get_task(session, _uuid(data["object_id"], "object_id"))
    status_id = _opt_uuid(data.get("task_status_id"))
    if status_id is not None:
        await get_status(session, status_id)
    links = data.get("links")
    if links is not None and not (isinstance(links, list) and all(isinstance(x, str) for x in links)):
        raise BadRequest("links must be a list of strings")
    stamp = _parse_created_at(data.get("created_at")) or now()
    comment = Comment(
        id=uuid.uuid4(), object_id=task.id, object_type="Task", text=data.get("text") or "", replies=[],
        checklist=_checklist(data.get("checklist")), for_client=bool(data.get("for_client")), links=links or [],
        task_status_id=status_id or task.task_status_id, person_id=_opt_uuid(data.get("person_id")) or principal.id,
        pinned=data.get("pinned") if isinstance(data.get("pinned"), bool) else None,
        created_at=stamp, updated_at=stamp,
    )
    session.add(comment)
    await session.flush()
    emit_comment(session, "comment:new", comment, task, actor_id=principal.id)
    return comment


async def comment_many(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID,
                       items: list[dict[str, Any]]) -> list[Comment]:
    """Several status-change comments on tasks of one project."""
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise BadRequest("A list of comments is expected.")
        task = await get_task(session, _uuid(item.get("object_id") or item.get("task_id"), "object_id"))
        if task.project_id != project_id:
            raise BadRequest("The task does not belong to this project.")
        out.append(await create_comment(
            session, principal=principal, task=task,
            task_status_id=_uuid(item.get("task_status_id"), "task_status_id"),
            text=item.get("comment", item.get("text", "")), person_id=_opt_uuid(item.get("person_id")),
            checklist=item.get("checklist"), links=item.get("links"), created_at=item.get("created_at"),
        ))
    return out


def _uuid(value: Any, field: str) -> uuid.UUID:
    if value in (None, ""):
        raise BadRequest("Validation error.", data={"errors": [{"field": field, "message": "Field required"}]})
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise BadRequest("Malformed ID.", data=None) from exc


def _opt_uuid(value: Any) -> uuid.UUID | None:
    return None if value in (None, "") else _uuid(value, "person_id")


# --- the task from its comment history -------------------------------------------------


async def reset_task_from_history(session: AsyncSession, task: Task, *, actor_id: uuid.UUID | None) -> None:
    """After a comment is deleted, moved or relabelled, the task is derived again from
    its comments, as Zou does: status of the latest comment, retake count (entries into
    a retake status), first WIP and first feedback-request dates, last done date, last
    comment date. Dates no comment gives are kept. Emits ``task:status-changed`` when the
    status moves, and ``task:update``."""
    rows = (await session.execute(
        select(Comment.created_at, TaskStatus)
        .join(TaskStatus, TaskStatus.id == Comment.task_status_id)
        .where(Comment.object_id == task.id).order_by(Comment.created_at, Comment.id)
    )).all()
    previous_status = task.task_status_id
    retakes, previous = 0, None
    real_start = end = done = None
    for created_at, status in rows:
        if status.is_retake and (previous is None or not previous.is_retake):
            retakes += 1
        if status.is_wip and real_start is None:
            real_start = created_at
        if status.is_feedback_request and end is None:
            end = created_at
        if status.is_done:
            done = created_at
        previous = status
    task.retake_count = retakes
    task.real_start_date = real_start or task.real_start_date
    task.end_date = end or task.end_date
    task.done_date = done or task.done_date
    task.last_comment_date = rows[-1][0] if rows else None
    if previous is not None:
        task.task_status_id = previous.id
    await session.flush()
    if task.task_status_id != previous_status:
        await task_rules.emit_task_event(
            session, "task:status-changed", task, actor_id=actor_id,
            previous_task_status_id=str(previous_status), new_task_status_id=str(task.task_status_id),
            person_id=str(actor_id) if actor_id else None)
    await task_rules.emit_task_event(session, "task:update", task, actor_id=actor_id)


# --- editing ---------------------------------------------------------------------------

EDITABLE = ("text", "checklist", "pinned", "for_client", "links", "data", "task_status_id")


async def update_comment(session: AsyncSession, *, principal: Principal, comment: Comment,
                         data: dict[str, Any]) -> Comment:
    """Edit a comment (its author, or a manager/admin of the project): new mentions are
    notified; a new status relabels the comment and the task follows its history."""
    task = await get_task(session, comment.object_id)
    await access.check_task_access(session, principal, task)
    await access.check_author_or_manager(session, principal, task.project_id, comment.person_id)
    if "task_status_id" in data and data["task_status_id"] is not None:
        data["task_status_id"] = (await get_status(session, _uuid(data["task_status_id"], "task_status_id"))).id
    if "checklist" in data:
        data["checklist"] = _checklist(data["checklist"])
    if "links" in data and data["links"] is not None and not isinstance(data["links"], list):
        raise BadRequest("links must be a list of strings")
    if "for_client" in data:
        data["for_client"] = bool(data["for_client"])
    old_mentions = set((await _links(session, comment_mention_link, "person_id", [comment.id])).get(comment.id, []))
    for key in EDITABLE:
        if key in data:
            setattr(comment, key, data[key] if key != "links" else (data[key] or []))
    comment.editor_id = principal.id
    comment.updated_at = now()
    await session.flush()
    if "task_status_id" in data and data["task_status_id"] is not None:
        await reset_task_from_history(session, task, actor_id=principal.id)
    if "text" in data:
        mentions, department_mentions = await find_mentions(session, task.project_id, comment.text)
        await _set_links(session, comment_mention_link, "person_id", comment.id, mentions)
        await _set_links(session, comment_department_mention_link, "department_id", comment.id, department_mentions)
        new = [m for m in mentions if str(m) not in old_mentions]
        await notifications.notify_mentions(session, comment=comment, task=task, persons=new, department_mentions=[])
    emit_comment(session, "comment:update", comment, task, actor_id=principal.id)
    return comment


async def delete_comment(session: AsyncSession, *, principal: Principal, comment: Comment) -> None:
    """Delete a comment (author, manager or admin); the task follows its remaining
    history (:func:`reset_task_from_history`), as Zou does."""
    task = await get_task(session, comment.object_id)
    await access.check_task_access(session, principal, task)
    await access.check_author_or_manager(session, principal, task.project_id, comment.person_id)
    emit_comment(session, "comment:delete", comment, task, actor_id=principal.id)
    await session.delete(comment)
    await session.flush()
    await reset_task_from_history(session, task, actor_id=principal.id)


# --- replies and acknowledgements ---------------------------------------------------------


async def reply(session: AsyncSession, *, principal: Principal, comment: Comment, text: str | None) -> dict[str, Any]:
    task = await get_task(session, comment.object_id)
    await access.check_task_access(session, principal, task)
    visible = access.comment_visibility(principal)
    if visible is not None and await session.scalar(
            select(Comment.id).where(Comment.id == comment.id, visible)) is None:
        raise NotFound()
    mentions, department_mentions = await find_mentions(session, task.project_id, text)
    stamp = now()
    entry = {
        "id": str(uuid.uuid4()), "date": serialize_value(stamp), "text": text or "",
        "mentions": [str(m) for m in mentions], "person_id": str(principal.id),
        "created_at": serialize_value(stamp), "department_mentions": [str(d) for d in department_mentions],
    }
    comment.replies = [*(comment.replies or []), entry]
    comment.updated_at = stamp
    await session.flush()
    emit_comment(session, "comment:reply", comment, task, actor_id=principal.id, reply_id=entry["id"])
    await notifications.notify_reply(session, comment=comment, task=task, reply=entry, author_id=principal.id,
                                     mentions=mentions, department_mentions=department_mentions)
    author = await session.get(Person, principal.id)
    return {
        "id": entry["id"], "date": entry["date"], "person_id": entry["person_id"], "text": entry["text"],
        "mentions": entry["mentions"], "department_mentions": entry["department_mentions"],
        "created_at": entry["created_at"], "person": person_brief(author, principal.id),
    }


async def delete_reply(session: AsyncSession, *, principal: Principal, comment: Comment, reply_id: uuid.UUID) -> Comment:
    task = await get_task(session, comment.object_id)
    await access.check_task_access(session, principal, task)
    entry = next((r for r in comment.replies or [] if str(r.get("id")) == str(reply_id)), None)
    if entry is None:
        raise NotFound()
    if str(entry.get("person_id")) != str(principal.id):  # its author or an admin (Zou: not managers)
        access.check_admin(principal)
    comment.replies = [r for r in comment.replies if str(r.get("id")) != str(reply_id)]
    comment.updated_at = now()
    await session.execute(delete(Notification).where(Notification.reply_id == reply_id))
    await session.flush()
    emit_comment(session, "comment:delete-reply", comment, task, actor_id=principal.id, reply_id=str(reply_id))
    return comment


async def acknowledge(session: AsyncSession, *, principal: Principal, comment: Comment) -> Comment:
    """Toggle the caller's acknowledgement of a comment."""
    task = await get_task(session, comment.object_id)
    await access.check_task_access(session, principal, task)
    link = comment_acknowledgement_link
    removed = await session.execute(
        delete(link).where(link.c.comment_id == comment.id, link.c.person_id == principal.id).returning(link.c.person_id))
    if removed.first() is None:
        await session.execute(insert(link).values(comment_id=comment.id, person_id=principal.id))
        name = "comment:acknowledge"
    else:
        name = "comment:unacknowledge"
    comment.updated_at = now()
    await session.flush()
    emit(session, name, {"comment_id": str(comment.id), "task_id": str(task.id), "person_id": str(principal.id)},
         project_id=task.project_id, actor_id=principal.id)
    return comment


# --- moving and copying ------------------------------------------------------------------


async def _latest(session: AsyncSession, task_id: uuid.UUID) -> Comment | None:
    return (await session.scalars(select(Comment).where(Comment.object_id == task_id)
                                  .order_by(Comment.created_at.desc(), Comment.id.desc()).limit(1))).first()


async def move_comment(session: AsyncSession, *, principal: Principal, comment: Comment, source: Task,
                       target_task_id: uuid.UUID) -> Comment:
    """Move a comment to another task of the same entity (managers and admins): its
    notifications and news are made again on the target; both tasks follow their
    comment histories (:func:`reset_task_from_history`)."""
    await access.check_task_access(session, principal, source)
    if not await access.is_project_manager(session, principal, source.project_id):
        raise Forbidden()
    if comment.object_id != source.id:
        raise BadRequest("Comment does not belong to the given task.", data=None)
    if target_task_id == source.id:
        raise BadRequest("Source and target tasks must be different.", data=None)
    target = await get_task(session, target_task_id)
    if target.entity_id != source.entity_id:
        raise BadRequest("Source and target tasks must belong to the same entity.", data=None)
    if await session.scalar(select(PreviewFileReplica.id).where(PreviewFileReplica.comment_id == comment.id).limit(1)):
        raise BadRequest("Comments tied to a preview revision cannot be moved.", data=None)
    latest_on_target = await _latest(session, target.id)
    await session.execute(delete(Notification).where(Notification.comment_id == comment.id))
    await session.execute(delete(News).where(News.comment_id == comment.id))
    comment.object_id = target.id
    comment.updated_at = now()
    await session.flush()
    await reset_task_from_history(session, source, actor_id=principal.id)
    status_before = target.task_status_id
    await reset_task_from_history(session, target, actor_id=principal.id)
    changed = target.task_status_id != status_before and (
        latest_on_target is None or latest_on_target.created_at <= comment.created_at)
    session.add(News(id=uuid.uuid4(), change=changed, author_id=comment.person_id, comment_id=comment.id,
                     task_id=target.id, created_at=comment.created_at, updated_at=comment.created_at))
    mentions = [uuid.UUID(m) for m in (await _links(session, comment_mention_link, "person_id", [comment.id])).get(comment.id, [])]
    departments = [uuid.UUID(d) for d in (await _links(session, comment_department_mention_link, "department_id",
                                                       [comment.id])).get(comment.id, [])]
    await notifications.notify_comment(session, comment=comment, task=target, change=changed, mentions=mentions,
                                       department_mentions=departments)
    emit_comment(session, "comment:update", comment, target, actor_id=principal.id, previous_task_id=str(source.id))
    return comment


async def copy_client_comments(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID,
                               task_ids: list[uuid.UUID], prefix: str | None) -> list[Comment]:
    """For each task of the project, the last client comment copied into a comment of
    the caller (a manager), so artists read it; the task keeps its status."""
    await access.check_project_access(session, principal, project_id)
    if not await access.is_project_manager(session, principal, project_id):
        raise Forbidden()
    out = []
    for task_id in dict.fromkeys(task_ids):
        task = await session.get(Task, task_id)
        if task is None or task.project_id != project_id:
            continue
        source = (await session.scalars(
            select(Comment).join(Person, Person.id == Comment.person_id)
            .where(Comment.object_id == task.id, Person.role == "client")
            .order_by(Comment.created_at.desc(), Comment.id.desc()).limit(1))).first()
        if source is None:
            continue
        text = f"{prefix}\n\n{source.text or ''}" if prefix else (source.text or "")
        out.append(await create_comment(session, principal=principal, task=task,
                                        task_status_id=task.task_status_id, text=text))
    return out


async def attachment_files(session: AsyncSession, principal: Principal, *, task_id: uuid.UUID | None = None,
                           project_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
    """Attachment files of a task's or a project's comments, each with its comment
    (admins, as Zou)."""
    access.check_admin(principal)
    stmt = select(AttachmentFileReplica, Comment).join(Comment, Comment.id == AttachmentFileReplica.comment_id)
    if task_id is not None:
        await get_task(session, task_id)
        stmt = stmt.where(Comment.object_id == task_id)
    else:
        stmt = stmt.join(Task, Task.id == Comment.object_id).where(Task.project_id == project_id)
    out = []
    for attachment, comment in await session.execute(stmt.order_by(AttachmentFileReplica.created_at)):
        row = {k: serialize_value(getattr(attachment, k)) for k in AttachmentFileReplica.FIELDS}
        row.update(comment=comment.serialize(), chat_message=None, type="AttachmentFile")
        out.append(row)
    return out
