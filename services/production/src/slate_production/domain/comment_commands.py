"""Writing comments, in the caller's transaction (they never commit).

Posting a comment, in one transaction: the comment and its mentions are stored, the
task moves to the comment's status through :func:`tasks.change_status` (dates, retake
count, ``task:status-changed``), the task's ``last_comment_date`` is set and
``task:update`` emitted, a news entry is written, notifications go to the assignees,
subscribers and mentioned persons (not to the author), and ``comment:new`` is emitted.
Replies, acknowledgements, edits, deletions, moves and copies follow the same rule."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from slate_common.errors import BadRequest, Forbidden, NotFound
from slate_common.events import emit
from slate_common.params import optional_id, required_id
from slate_common.security import Principal
from slate_common.serialization import now, serialize_value

from ..models import (
    Comment,
    News,
    Notification,
    Person,
    PreviewFileReplica,
    Task,
    TaskStatus,
    comment_acknowledgement_link,
    comment_department_mention_link,
    comment_mention_link,
)
from . import access, notifications
from . import tasks as task_rules
from .comment_queries import (
    comment_links,
    find_mentions,
    get_status,
    get_task,
    latest_comment,
    person_brief,
    snapshot,
    statuses,
)


async def _set_links(session: AsyncSession, table: Any, column: str, comment_id: uuid.UUID, ids: list[uuid.UUID],
                     *, new: bool = False) -> None:
    """Make ``ids`` the comment's links in ``table`` (``new``: the comment has none yet)."""
    if not new:
        await session.execute(delete(table).where(table.c.comment_id == comment_id))
    if ids:
        await session.execute(insert(table), [{"comment_id": comment_id, column: i} for i in dict.fromkeys(ids)])


def emit_comment(session: AsyncSession, *, name: str, comment: Comment, task: Task,
                 actor_id: uuid.UUID | None, **extra: Any) -> None:
    emit(session, name=name, data={"comment_id": str(comment.id), "task_id": str(task.id), **extra,
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
    role: str | None = None,
) -> Comment:
    """Comment on ``task`` and move it to ``task_status_id`` (module docstring).
    ``role``: the caller's role on the task's project when the caller has just read it
    (:func:`comment_queries.task_with_role`)."""
    if role is None:
        role = await access.task_role(session, principal=principal, task=task)
    # the new status and the task's current one, read once for the whole flow (and the answer)
    found = await statuses(session, task_status_id, task.task_status_id)
    if task_status_id not in found:
        raise NotFound()
    status = found[task_status_id]
    access.check_status_allowed(role, status=status)
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
    mentions, department_mentions = await find_mentions(session, project_id=task.project_id, text=comment.text)
    if mentions or department_mentions:
        await session.flush()  # the links name the comment
        await _set_links(session, comment_mention_link, "person_id", comment.id, mentions, new=True)
        await _set_links(session, comment_department_mention_link, "department_id", comment.id,
                         department_mentions, new=True)
    comment.fresh_links = (mentions, department_mentions)

    # read once for the two snapshots and the notifications (a comment does not assign)
    assignees = (await task_rules.assignees_of(session, task_ids=[task.id]))[task.id]
    task.last_comment_date = stamp  # set first: both task snapshots below carry it
    change = await task_rules.change_status(session, task=task, task_status_id=status.id, actor_id=author_id,
                                            when=stamp, assignees=assignees, changed_before=task_rules.COMMENT_FIELDS)
    await session.flush()
    # the fields a comment may change (media's task replica keeps none: it skips the event)
    await task_rules.emit_task_event(session, name="task:update", task=task, actor_id=author_id, assignees=assignees,
                                     changed=task_rules.COMMENTED_FIELDS)
    session.add(News(id=uuid.uuid4(), change=change.changed, author_id=author_id, comment_id=comment.id,
                     task_id=task.id, created_at=stamp, updated_at=stamp))
    emit_comment(session, name="comment:new", comment=comment, task=task, actor_id=author_id,
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
    task = await get_task(session, task_id=required_id(data["object_id"], "object_id"))
    status_id = optional_id(data.get("task_status_id"))
    if status_id is not None:
        await get_status(session, task_status_id=status_id)
    links = data.get("links")
    if links is not None and not (isinstance(links, list) and all(isinstance(x, str) for x in links)):
        raise BadRequest("links must be a list of strings")
    stamp = _parse_created_at(data.get("created_at")) or now()
    comment = Comment(
        id=uuid.uuid4(), object_id=task.id, object_type="Task", text=data.get("text") or "", replies=[],
        checklist=_checklist(data.get("checklist")), for_client=bool(data.get("for_client")), links=links or [],
        task_status_id=status_id or task.task_status_id, person_id=optional_id(data.get("person_id")) or principal.id,
        pinned=data.get("pinned") if isinstance(data.get("pinned"), bool) else None,
        created_at=stamp, updated_at=stamp,
    )
    session.add(comment)
    await session.flush()
    emit_comment(session, name="comment:new", comment=comment, task=task, actor_id=principal.id)
    return comment


async def comment_many(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID,
                       items: list[dict[str, Any]]) -> list[Comment]:
    """Several status-change comments, as Zou makes them: each by the caller's rights on
    its task (in whatever project it is), a manager's managing rights being those on the
    project of the path; a comment the caller may not make (a task they cannot comment,
    a status their role may not set, a task or status that is not there) is left out of
    the answer, the others are made. Those checks come before anything is written."""
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise BadRequest("A list of comments is expected.")
        task_id = required_id(item.get("object_id") or item.get("task_id"), "object_id")
        status_id = required_id(item.get("task_status_id"), "task_status_id")
        try:
            task = await get_task(session, task_id=task_id)
            role = await access.task_role(session, principal=principal, task=task)
            if role == "manager" and task.project_id != project_id \
                    and await access.project_role(session, principal=principal, project_id=project_id) != "manager":
                raise Forbidden()
            out.append(await create_comment(
                session, principal=principal, task=task, task_status_id=status_id, role=role,
                text=item.get("comment", item.get("text", "")), person_id=optional_id(item.get("person_id")),
                checklist=item.get("checklist"), links=item.get("links"), created_at=item.get("created_at"),
            ))
        except (Forbidden, NotFound):
            continue
    return out


# --- the task from its comment history -------------------------------------------------


async def reset_task_from_history(session: AsyncSession, *, task: Task, actor_id: uuid.UUID | None) -> None:
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
            session, name="task:status-changed", task=task, actor_id=actor_id,
            changed=task_rules.COMMENTED_FIELDS,
            previous_task_status_id=str(previous_status), new_task_status_id=str(task.task_status_id),
            person_id=str(actor_id) if actor_id else None)
    await task_rules.emit_task_event(session, name="task:update", task=task, actor_id=actor_id,
                                     changed=task_rules.COMMENTED_FIELDS)


# --- editing ---------------------------------------------------------------------------

EDITABLE = ("text", "checklist", "pinned", "for_client", "links", "data", "task_status_id")


async def update_comment(session: AsyncSession, *, principal: Principal, comment: Comment,
                         data: dict[str, Any]) -> Comment:
    """Edit a comment (its author, or a manager/admin of the project): new mentions are
    notified; a new status relabels the comment and the task follows its history."""
    task = await get_task(session, task_id=comment.object_id)
    await access.check_task_access(session, principal=principal, task=task)
    await access.check_author_or_manager(session, principal=principal, project_id=task.project_id, author_id=comment.person_id)
    if "task_status_id" in data and data["task_status_id"] is not None:
        data["task_status_id"] = (await get_status(session, task_status_id=required_id(data["task_status_id"], "task_status_id"))).id
    if "checklist" in data:
        data["checklist"] = _checklist(data["checklist"])
    if "links" in data and data["links"] is not None and not isinstance(data["links"], list):
        raise BadRequest("links must be a list of strings")
    if "for_client" in data:
        data["for_client"] = bool(data["for_client"])
    old_mentions = set((await comment_links(session, table=comment_mention_link, column="person_id", comment_ids=[comment.id])).get(comment.id, []))
    for key in EDITABLE:
        if key in data:
            setattr(comment, key, data[key] if key != "links" else (data[key] or []))
    comment.editor_id = principal.id
    comment.updated_at = now()
    await session.flush()
    if "task_status_id" in data and data["task_status_id"] is not None:
        await reset_task_from_history(session, task=task, actor_id=principal.id)
    if "text" in data:
        mentions, department_mentions = await find_mentions(session, project_id=task.project_id, text=comment.text)
        await _set_links(session, comment_mention_link, "person_id", comment.id, mentions)
        await _set_links(session, comment_department_mention_link, "department_id", comment.id, department_mentions)
        new = [m for m in mentions if str(m) not in old_mentions]
        await notifications.notify_mentions(session, comment=comment, task=task, persons=new, department_mentions=[])
    emit_comment(session, name="comment:update", comment=comment, task=task, actor_id=principal.id)
    return comment


async def delete_comment(session: AsyncSession, *, principal: Principal, comment: Comment) -> None:
    """Delete a comment (author, manager or admin); the task follows its remaining
    history (:func:`reset_task_from_history`), as Zou does."""
    task = await get_task(session, task_id=comment.object_id)
    await access.check_task_access(session, principal=principal, task=task)
    await access.check_author_or_manager(session, principal=principal, project_id=task.project_id, author_id=comment.person_id)
    emit_comment(session, name="comment:delete", comment=comment, task=task, actor_id=principal.id)
    await session.delete(comment)
    await session.flush()
    await reset_task_from_history(session, task=task, actor_id=principal.id)


# --- replies and acknowledgements ---------------------------------------------------------


async def reply(session: AsyncSession, *, principal: Principal, comment: Comment, text: str | None) -> dict[str, Any]:
    task = await get_task(session, task_id=comment.object_id)
    await access.check_task_access(session, principal=principal, task=task)
    visible = access.comment_visibility(principal)
    if visible is not None and await session.scalar(
            select(Comment.id).where(Comment.id == comment.id, visible)) is None:
        raise NotFound()
    mentions, department_mentions = await find_mentions(session, project_id=task.project_id, text=text)
    stamp = now()
    entry = {
        "id": str(uuid.uuid4()), "date": serialize_value(stamp), "text": text or "",
        "mentions": [str(m) for m in mentions], "person_id": str(principal.id),
        "created_at": serialize_value(stamp), "department_mentions": [str(d) for d in department_mentions],
    }
    comment.replies = [*(comment.replies or []), entry]
    comment.updated_at = stamp
    await session.flush()
    emit_comment(session, name="comment:reply", comment=comment, task=task, actor_id=principal.id, reply_id=entry["id"])
    await notifications.notify_reply(session, comment=comment, task=task, reply=entry, author_id=principal.id,
                                     mentions=mentions, department_mentions=department_mentions)
    author = await session.get(Person, principal.id)
    return {
        "id": entry["id"], "date": entry["date"], "person_id": entry["person_id"], "text": entry["text"],
        "mentions": entry["mentions"], "department_mentions": entry["department_mentions"],
        "created_at": entry["created_at"], "person": person_brief(author, person_id=principal.id),
    }


async def delete_reply(session: AsyncSession, *, principal: Principal, comment: Comment, reply_id: uuid.UUID) -> Comment:
    task = await get_task(session, task_id=comment.object_id)
    await access.check_task_access(session, principal=principal, task=task)
    entry = next((r for r in comment.replies or [] if str(r.get("id")) == str(reply_id)), None)
    if entry is None:
        raise NotFound()
    if str(entry.get("person_id")) != str(principal.id):  # its author or an admin (Zou: not managers)
        access.check_admin(principal)
    comment.replies = [r for r in comment.replies if str(r.get("id")) != str(reply_id)]
    comment.updated_at = now()
    await session.execute(delete(Notification).where(Notification.reply_id == reply_id))
    await session.flush()
    emit_comment(session, name="comment:delete-reply", comment=comment, task=task, actor_id=principal.id, reply_id=str(reply_id))
    return comment


async def acknowledge(session: AsyncSession, *, principal: Principal, comment: Comment) -> Comment:
    """Toggle the caller's acknowledgement of a comment."""
    task = await get_task(session, task_id=comment.object_id)
    await access.check_task_access(session, principal=principal, task=task)
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
    emit(session, name=name, data={"comment_id": str(comment.id), "task_id": str(task.id), "person_id": str(principal.id)},
         project_id=task.project_id, actor_id=principal.id)
    return comment


async def move_comment(session: AsyncSession, *, principal: Principal, comment: Comment, source: Task,
                       target_task_id: uuid.UUID) -> Comment:
    """Move a comment to another task of the same entity (managers and admins): its
    notifications and news are made again on the target; both tasks follow their
    comment histories (:func:`reset_task_from_history`)."""
    await access.check_task_access(session, principal=principal, task=source)
    if not await access.is_project_manager(session, principal=principal, project_id=source.project_id):
        raise Forbidden()
    if comment.object_id != source.id:
        raise BadRequest("Comment does not belong to the given task.", data=None)
    if target_task_id == source.id:
        raise BadRequest("Source and target tasks must be different.", data=None)
    target = await get_task(session, task_id=target_task_id)
    if target.entity_id != source.entity_id:
        raise BadRequest("Source and target tasks must belong to the same entity.", data=None)
    if await session.scalar(select(PreviewFileReplica.id).where(PreviewFileReplica.comment_id == comment.id).limit(1)):
        raise BadRequest("Comments tied to a preview revision cannot be moved.", data=None)
    latest_on_target = await latest_comment(session, task_id=target.id)
    await session.execute(delete(Notification).where(Notification.comment_id == comment.id))
    await session.execute(delete(News).where(News.comment_id == comment.id))
    comment.object_id = target.id
    comment.updated_at = now()
    await session.flush()
    await reset_task_from_history(session, task=source, actor_id=principal.id)
    status_before = target.task_status_id
    await reset_task_from_history(session, task=target, actor_id=principal.id)
    changed = target.task_status_id != status_before and (
        latest_on_target is None or latest_on_target.created_at <= comment.created_at)
    session.add(News(id=uuid.uuid4(), change=changed, author_id=comment.person_id, comment_id=comment.id,
                     task_id=target.id, created_at=comment.created_at, updated_at=comment.created_at))
    mentions = [uuid.UUID(m) for m in (await comment_links(session, table=comment_mention_link, column="person_id", comment_ids=[comment.id])).get(comment.id, [])]
    departments = [uuid.UUID(d) for d in (await comment_links(session, table=comment_department_mention_link, column="department_id",
                                                       comment_ids=[comment.id])).get(comment.id, [])]
    await notifications.notify_comment(session, comment=comment, task=target, change=changed, mentions=mentions,
                                       department_mentions=departments)
    emit_comment(session, name="comment:update", comment=comment, task=target, actor_id=principal.id, previous_task_id=str(source.id))
    return comment


async def copy_client_comments(session: AsyncSession, *, principal: Principal, project_id: uuid.UUID,
                               task_ids: list[uuid.UUID], prefix: str | None) -> list[Comment]:
    """For each task of the project, the last client comment copied into a comment of
    the caller (a manager), so artists read it; the task keeps its status."""
    await access.check_project_access(session, principal=principal, project_id=project_id)
    if not await access.is_project_manager(session, principal=principal, project_id=project_id):
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
