"""Reading comments: the getters, the serializers (with mentions, previews, attachments
and acknowledgements) and the listings Kitsu reads, each scope inside its query."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import ARRAY, JSON, bindparam, func, literal, literal_column, select
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.db import BOOKKEEPING_FIELDS, CompiledRead
from slate_common.errors import Forbidden, NotFound
from slate_common.params import page_of, paginate, parse_id
from slate_common.security import Principal
from slate_common.serialization import serialize_value

from ..models import (
    AttachmentFileReplica,
    Comment,
    Department,
    Person,
    PreviewFileReplica,
    Task,
    TaskStatus,
    comment_acknowledgement_link,
    comment_department_mention_link,
    comment_mention_link,
    project_person_link,
)
from . import access
from .sql_json import column_json, json_object

#: Values a row gives that an answer carries as they are (``ZouModel.serialize``'s).
_PLAIN = frozenset((str, int, float, bool, type(None), dict, list))

PERSON_BRIEF = ("first_name", "last_name", "full_name", "has_avatar", "role", "id")


STATUS_BRIEF = ("name", "short_name", "color", "id")


PREVIEW_FIELDS = ("id", "task_id", "revision", "extension", "width", "height", "duration", "status",
                  "validation_status", "original_name", "position", "annotations")


# --- loading ---------------------------------------------------------------------------


async def get_task(session: AsyncSession, *, task_id: uuid.UUID) -> Task:
    task = await session.get(Task, task_id)
    if task is None:
        raise NotFound()
    return task


async def task_with_role(session: AsyncSession, *, principal: Principal, task_id: uuid.UUID,
                         with_person: bool = False) -> tuple[Task, str | None]:
    """The task (404 when there is none) and the caller's role on its project as
    :func:`access.task_role` reads it, in one query (``with_person``: with the caller's
    person row, kept with :func:`keep` for an answer). The role is None when the query
    cannot tell it alone (out of the team, a vendor's assignment): then
    :func:`access.task_role` or :func:`access.check_task_access` decides."""
    if principal.is_admin:
        role: Any = literal("admin")
    else:
        role = (select(func.coalesce(project_person_link.c.role, principal.role))
                .where(project_person_link.c.project_id == Task.project_id,
                       project_person_link.c.person_id == principal.id)
                .scalar_subquery())
    stmt = select(Task, role).where(Task.id == task_id)
    if with_person:
        stmt = stmt.add_columns(Person).outerjoin(Person, Person.id == principal.id)
    row = (await session.execute(stmt)).first()
    if row is None:
        raise NotFound()
    if with_person:
        keep(session, row[2])
    return row[0], (None if principal.is_vendor else row[1])


def keep(session: AsyncSession, *rows: Any) -> None:
    """Hold ``rows`` for the rest of the unit of work: the session's identity map keeps
    rows only while something refers to them, and a later ``session.get`` of a row
    nobody holds any more reads it again."""
    session.info.setdefault("kept", []).extend(r for r in rows if r is not None)


async def statuses(session: AsyncSession, *ids: uuid.UUID) -> dict[uuid.UUID, TaskStatus]:
    """Task statuses by id, in one query, kept (:func:`keep`) for the unit of work."""
    found = {s.id: s for s in await session.scalars(select(TaskStatus).where(TaskStatus.id.in_(set(ids))))}
    keep(session, *found.values())
    return found


async def get_comment(session: AsyncSession, *, comment_id: uuid.UUID, task_id: uuid.UUID | None = None) -> Comment:
    comment = await session.get(Comment, comment_id)
    if comment is None or (task_id is not None and comment.object_id != task_id):
        raise NotFound()
    return comment


async def get_status(session: AsyncSession, *, task_status_id: uuid.UUID) -> TaskStatus:
    status = await session.get(TaskStatus, task_status_id)
    if status is None:
        raise NotFound()
    return status


# --- mentions --------------------------------------------------------------------------


async def find_mentions(session: AsyncSession, *, project_id: uuid.UUID, text: str | None) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
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


async def department_members(session: AsyncSession, *, department_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    from ..models import department_person_link

    if not department_ids:
        return []
    rows = await session.scalars(
        select(department_person_link.c.person_id).where(department_person_link.c.department_id.in_(department_ids))
    )
    return list(dict.fromkeys(rows))


async def comment_links(session: AsyncSession, *, table: Any, column: str, comment_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
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


def person_brief(person: Person | None, *, person_id: Any) -> dict[str, Any]:
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
    out: dict[str, Any] = {"id": str(a.id), "name": a.name, "extension": a.extension}
    if reply:
        out["reply_id"] = serialize_value(a.reply_id)
    out["size"] = a.size
    return out


async def comment_relations(session: AsyncSession, *, comments: list[Comment]) -> dict[str, Any]:
    ids = [c.id for c in comments]
    return {
        "attachments": await _attachments(session, ids),
        "mentions": await comment_links(session, table=comment_mention_link, column="person_id", comment_ids=ids),
        "department_mentions": await comment_links(session, table=comment_department_mention_link, column="department_id", comment_ids=ids),
        "acknowledgements": await comment_links(session, table=comment_acknowledgement_link, column="person_id", comment_ids=ids),
        "previews": await _previews(session, ids),
    }


async def serialize_with_links(session: AsyncSession, *, comment: Comment, preview_ids: bool = True) -> dict[str, Any]:
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
        rel = await comment_relations(session, comments=[comment])
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


async def serialize_created(session: AsyncSession, *, comment: Comment) -> dict[str, Any]:
    """POST answer: the comment, its links, the full task status and the full author."""
    out = await serialize_with_links(session, comment=comment)
    status = await session.get(TaskStatus, comment.task_status_id) if comment.task_status_id else None
    author = await session.get(Person, comment.person_id)
    out["task_status"] = status.serialize() if status else None
    out["person"] = author.serialize(exclude=frozenset({"departments"})) if author else person_brief(None, person_id=comment.person_id)
    return out


async def serialize_one(session: AsyncSession, *, comment: Comment) -> dict[str, Any]:
    """GET /data/comments/<id>: links, author in brief, replies with their authors."""
    out = await serialize_with_links(session, comment=comment)
    ids = {uuid.UUID(str(r.get("person_id"))) for r in comment.replies or [] if r.get("person_id")}
    persons = await _persons(session, ids | {comment.person_id})
    out["replies"] = _replies_with_persons(comment.replies, persons)
    out["person"] = person_brief(persons.get(comment.person_id), person_id=comment.person_id)
    return out


def _replies_with_persons(replies: list[Any] | None, persons: dict[uuid.UUID, Person]) -> list[dict[str, Any]]:
    return [
        {**r, "person": person_brief(persons.get(uuid.UUID(str(r["person_id"]))), person_id=r["person_id"])}
        if r.get("person_id") else r
        for r in replies or []
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


#: The comment columns as ``Comment.serialize`` writes them (its keys, in Zou's order).
_COMMENT_COLUMNS = [Comment.__table__.c[k] for k in Comment.FIELDS
                    if k in Comment.__table__.c and k not in Comment.hidden_fields | BOOKKEEPING_FIELDS]
_COMMENT_KEYS = tuple(col.key for col in _COMMENT_COLUMNS)
_NC = len(_COMMENT_KEYS)
_FOR_CLIENT = _COMMENT_KEYS.index("for_client")
_PERSON_ID = _COMMENT_KEYS.index("person_id")
_STATUS_ID = _COMMENT_KEYS.index("task_status_id")
_REPLIES = _COMMENT_KEYS.index("replies")

#: A task's comments (``task_id``) with their author, status and links, newest first:
#: plain rows (building the ``Comment`` objects cost more than the query).
_TASK_COMMENTS = (
    select(*_COMMENT_COLUMNS, Person.first_name, Person.last_name, Person.has_avatar, Person.role,
           TaskStatus.name, TaskStatus.short_name, TaskStatus.color,
           _linked_ids(comment_mention_link, "person_id"),
           _linked_ids(comment_department_mention_link, "department_id"),
           _linked_ids(comment_acknowledgement_link, "person_id"), LISTED_PREVIEWS, LISTED_ATTACHMENTS)
    .outerjoin(Person, Person.id == Comment.person_id)
    .outerjoin(TaskStatus, TaskStatus.id == Comment.task_status_id)
    .where(Comment.object_id == bindparam("task_id", type_=PG_UUID(as_uuid=True)))
    .order_by(Comment.created_at.desc(), Comment.id)
)
#: :data:`_TASK_COMMENTS` in the scope of each role but clients' (whose scope names them),
#: built and compiled once: building the statement and its cache key cost more than
#: running it.
_TASK_COMMENTS_BY_ROLE: dict[str, CompiledRead] = {}


async def _task_comment_rows(session: AsyncSession, *, principal: Principal, task_id: uuid.UUID) -> list[Any]:
    if principal.is_client:
        stmt = _TASK_COMMENTS.where(access.comment_visibility(principal))
        return list((await session.execute(stmt, {"task_id": task_id})).all())
    read = _TASK_COMMENTS_BY_ROLE.get(principal.role)
    if read is None:
        visible = access.comment_visibility(principal)  # the same for everyone of the role
        read = CompiledRead(_TASK_COMMENTS if visible is None else _TASK_COMMENTS.where(visible))
        _TASK_COMMENTS_BY_ROLE[principal.role] = read
    return await read.all(session, task_id=task_id)


#: The task and the caller's role on its project (:func:`task_with_role`'s), plain, per
#: role; the caller's id and the task's are parameters.
_TASK_ROLE_BY_ROLE: dict[str | None, CompiledRead] = {}


def _task_role_for(principal: Principal) -> CompiledRead:
    key = None if principal.is_admin else principal.role
    read = _TASK_ROLE_BY_ROLE.get(key)
    if read is None:
        role: Any = literal("admin") if key is None else (
            select(func.coalesce(project_person_link.c.role, literal(key)))
            .where(project_person_link.c.project_id == Task.project_id,
                   project_person_link.c.person_id == bindparam("principal_id", type_=PG_UUID(as_uuid=True)))
            .scalar_subquery())
        read = _TASK_ROLE_BY_ROLE[key] = CompiledRead(select(Task.id, role).where(
            Task.id == bindparam("task_id", type_=PG_UUID(as_uuid=True))))
    return read


def _plain(value: Any) -> Any:
    return value if type(value) in _PLAIN else serialize_value(value)


async def task_comments(session: AsyncSession, *, principal: Principal, task_id: uuid.UUID) -> list[dict[str, Any]]:
    """A task's comments, newest first, with author, status, previews and links: the
    listing Kitsu's task panel reads. One query for the task and the caller's rights on
    it, one for the comments with their author, status, links, previews and attachments
    (plain rows, written as ``Comment.serialize`` writes them), one for the authors of
    replies when there are replies."""
    params: dict[str, Any] = {"task_id": task_id}
    if not principal.is_admin:
        params["principal_id"] = principal.id
    found = await _task_role_for(principal).first(session, **params)
    if found is None:
        raise NotFound()
    if principal.is_vendor or found[1] is None:  # out of the team, a vendor's assignment
        await access.check_task_access(session, principal=principal, task=await get_task(session, task_id=task_id))
    rows = await _task_comment_rows(session, principal=principal, task_id=task_id)
    if not rows:
        return []
    reply_authors = {uuid.UUID(str(r["person_id"])) for row in rows for r in row[_REPLIES] or () if r.get("person_id")}
    persons = await _persons(session, reply_authors)
    out = []
    for row in rows:
        (first, last, avatar, role, s_name, s_short, s_color, mentions, departments, acks, previews,
         files) = row[_NC:]
        comment = {key: _plain(value) for key, value in zip(_COMMENT_KEYS, row[:_NC])}
        comment["type"] = "Comment"
        comment["replies"] = _replies_with_persons(row[_REPLIES], persons)
        blind = principal.is_client and not row[_FOR_CLIENT] and role != "client"  # access.client_blind
        if blind:
            comment.update(text="", replies=[], checklist=[])
        comment.update(
            person={"first_name": first or "", "last_name": last or "",
                    "full_name": f"{first or ''} {last or ''}".strip(), "has_avatar": bool(avatar), "role": role,
                    "id": str(row[_PERSON_ID])},
            task_status=({"name": s_name, "short_name": s_short, "color": s_color, "id": str(row[_STATUS_ID])}
                         if s_name is not None else None),
            acknowledgements=[str(a) for a in acks],
            previews=previews,
            mentions=[] if blind else [str(m) for m in mentions],
            department_mentions=[] if blind else [str(d) for d in departments],
            attachment_files=[] if blind else files,
        )
        out.append(comment)
    return out


async def project_comments(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID, limit: int | None = None, page: int = 1) -> list[dict[str, Any]]:
    """Every comment of a project's tasks, newest first, with links and preview ids. Its
    team reads them, but not its clients and vendors (Zou: 403)."""
    await access.check_project_access(session, principal=principal, project_id=project_id)
    if await access.project_role(session, principal=principal, project_id=project_id) in ("client", "vendor"):
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
    rel = await comment_relations(session, comments=comments)
    roles = ({p.id: p.role for p in (await _persons(session, {c.person_id for c in comments})).values()}
             if principal.is_client else {})
    out = []
    for c in comments:
        row = c.serialize()
        blind = access.client_blind(principal, comment=c, author_role=roles.get(c.person_id))
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


# --- moving and copying ------------------------------------------------------------------


async def latest_comment(session: AsyncSession, *, task_id: uuid.UUID) -> Comment | None:
    return (await session.scalars(select(Comment).where(Comment.object_id == task_id)
                                  .order_by(Comment.created_at.desc(), Comment.id.desc()).limit(1))).first()


async def attachment_files(session: AsyncSession, *, principal: Principal, task_id: uuid.UUID | None = None,
                           project_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
    """Attachment files of a task's or a project's comments, each with its comment
    (admins, as Zou)."""
    access.check_admin(principal)
    stmt = select(AttachmentFileReplica, Comment).join(Comment, Comment.id == AttachmentFileReplica.comment_id)
    if task_id is not None:
        await get_task(session, task_id=task_id)
        stmt = stmt.where(Comment.object_id == task_id)
    else:
        stmt = stmt.join(Task, Task.id == Comment.object_id).where(Task.project_id == project_id)
    out = []
    for attachment, comment in await session.execute(stmt.order_by(AttachmentFileReplica.created_at)):
        row = {k: serialize_value(getattr(attachment, k)) for k in AttachmentFileReplica.FIELDS}
        row.update(comment=comment.serialize(), chat_message=None, type="AttachmentFile")
        out.append(row)
    return out


async def comment_visible(session: AsyncSession, *, principal: Principal, comment_id: uuid.UUID) -> bool:
    """Whether the caller's role may read this comment (Zou hides some from some roles)."""
    visible = access.comment_visibility(principal)
    if visible is None:
        return True
    return await session.scalar(select(Comment.id).where(Comment.id == comment_id, visible)) is not None


async def list_comments(session: AsyncSession, *, params: Any) -> Any:
    """Every comment, filtered by object, person, status and editor; a page with ``page``."""
    stmt = select(Comment)
    for key in ("object_id", "person_id", "task_status_id", "editor_id"):
        if params.get(key):
            stmt = stmt.where(getattr(Comment, key) == parse_id(params[key]))
    stmt = stmt.order_by(Comment.created_at)
    page = page_of(params)
    if page is None:
        return [c.serialize() for c in await session.scalars(stmt)]
    return await paginate(session, stmt=stmt, page=page, serialize=lambda rows: [c.serialize() for c in rows])
